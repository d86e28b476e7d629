import type { KeyObject } from 'node:crypto';
import type { ApprovalSecret } from '../approval/token.ts';
import type { AuditSink } from '../audit/types.ts';
import type { Guard, OnDeny } from '../guard-types.ts';
import type { StateStore } from '../store/types.ts';
import type { Duration } from '../types.ts';
import type { ConsoleAccount } from './accounts.ts';
import type { AuditKeys } from './audit-reader.ts';

/** Options of `consoleHandler` (and `serveConsole`). */
export interface ConsoleOptions {
  /** The StateStore the guards use: pending approvals, grants, suspensions, and the console's sessions. */
  store: StateStore;
  /**
   * Who may sign in: a JSON file (a list, or `{ "accounts": [...] }`) or the list itself, of
   * `{ name, role, passwordHash }` (from `hashPassword`) or `{ name, role, token }`.
   */
  accounts: string | readonly ConsoleAccount[];
  /** `jsonlAudit` files to read and verify (each with its rotated files). */
  audit?: string | readonly string[];
  /** Public keys that sign the audit checkpoints: by key id (KeyObject or PEM), or a JWK Set. */
  auditKeys?: AuditKeys | Readonly<Record<string, KeyObject | string>>;
  /** A guard in this process: shows its policy and coverage, and suspends through it (recorded on its trail). */
  guard?: Guard<OnDeny>;
  /** The approval queue's HMAC key; the same one as `consoleApprover({ secret })`. Default: a key kept in the store. */
  secret?: ApprovalSecret;
  /**
   * Where the console records what people do in it (`type: 'console'` events): sign-ins, answers,
   * revocations, suspensions, exports. A failed write stops the action. @default consoleAudit() (stdout)
   */
  actionAudit?: AuditSink | readonly AuditSink[];
  /** How long a sign-in lasts. @default '8h' */
  sessionTtl?: Duration;
  /**
   * The public origin behind a reverse proxy (`https://console.example.com`): the only `Origin`
   * accepted on changes, and `https` turns on `Secure` cookies and HSTS. Default: the request's own.
   */
  origin?: string;
  /** Read the client address for sign-in throttling from `X-Forwarded-For` (only behind a proxy you run). @default false */
  trustProxy?: boolean;
  /** Mount point when the handler serves under a path, e.g. `'/console'`. @default '' */
  basePath?: string;
  /** A directory with a built page to serve instead of the packaged one. */
  assets?: string;
  /** Clock. @default Date.now */
  now?: () => number;
}

/** What `consoleHandler` may learn from the server besides the request. */
export interface ConsoleRequestInfo {
  /** The client's address (`serveConsole` passes the socket's), for sign-in throttling. */
  readonly clientAddress?: string;
}
