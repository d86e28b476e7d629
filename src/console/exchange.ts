import type { Accounts, ConsoleRole } from './accounts.ts';
import type { secretSource } from './approver.ts';
import type { AuditReader } from './audit-reader.ts';
import type { Control } from './control.ts';
import type { QueueWatch } from './live.ts';
import type { ConsoleOptions } from './options.ts';
import type { ActionLog } from './record.ts';
import type { Session, Sessions, SignInLimiter } from './sessions.ts';

// The shapes the console's handler (handler.ts) and its routes (routes.ts, routes-audit.ts) share.

/** Everything a route needs, built once per handler. */
export interface ConsoleContext {
  readonly options: ConsoleOptions;
  readonly accounts: Accounts;
  readonly sessions: Sessions;
  readonly limiter: SignInLimiter;
  readonly secret: ReturnType<typeof secretSource>;
  readonly reader: AuditReader;
  readonly control: Control;
  readonly watch: QueueWatch;
  readonly actions: ActionLog;
  readonly now: () => number;
}

/** One request as a route sees it. */
export interface Exchange {
  readonly request: Request;
  readonly url: URL;
  /** Path below the base path, starting with `/`. */
  readonly path: string;
  readonly params: readonly string[];
  readonly secure: boolean;
  readonly cookiePath: string;
  readonly clientAddress: string | undefined;
  readonly session: Session | undefined;
}

/** One route: who may call it, and what it does. */
export interface Route {
  readonly method: 'GET' | 'POST';
  readonly pattern: RegExp;
  /** `public`: no session needed; otherwise the least role. */
  readonly role: ConsoleRole | 'public';
  run(exchange: Exchange): Promise<Response>;
}
