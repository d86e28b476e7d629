import type { GrantsApi } from './approval/grant-types.ts';
import type { ApprovalProvider } from './approval/types.ts';
import type { AuditOption } from './audit/types.ts';
import type { GuardEvents } from './events.ts';
import type { KeySet } from './identity/keys.ts';
import type { AgentRegistry } from './identity/registry.ts';
import type { ActiveSuspension, SuspendOptions, SuspendTarget } from './limits/suspend.ts';
import type { PolicyEngine } from './policy/types.ts';
import type { SecretsOptions } from './secrets/broker.ts';
import type { StandardSchemaV1 } from './standard-schema.ts';
import type { StateStore } from './store/types.ts';
import type { Decision, DeepReadonly, Duration, Obligations, ToolContext, ToolDenial } from './types.ts';

// The public contract of a guard (src/guard.ts builds it): its options, the options of a guarded
// tool and of one call, and the `Guard` object itself.

/** What to do with a denied call. */
export type OnDeny = 'throw' | 'return';

/**
 * How much of a denial the model reads (adapters' native denial shapes, the AI SDK's
 * `toolApproval` reason): `'code'` the deny code only, `'reason'` the code and the reason,
 * `'full'` also the rule and the failed conditions. The error, the returned denial, the audit
 * record and the `decision` event always carry the rule and the failed conditions.
 */
export type DenialDetail = 'code' | 'reason' | 'full';

/** Options of `tg.flush()` and `tg.close()`. */
export interface ShutdownOptions {
  /**
   * How long each audit sink (and, for `close`, the approver and the policy engine) may take; past
   * it the guard stops waiting and says so. @default '30s'
   */
  timeout?: Duration;
}

/** Defaults for every call of a guard. */
export interface GuardDefaults {
  /** Call timeout. @default '30s' */
  timeout?: Duration;
  /** How long the policy engine may take. @default '1s' */
  policyTimeout?: Duration;
  /** How long to wait for an approval. @default '5m' */
  approvalTimeout?: Duration;
  /** Maximum size of arguments: UTF-8 bytes of their JSON text (checked as they are copied). @default 1_048_576 */
  maxArgBytes?: number;
  /** Maximum nesting depth of arguments. @default 64 */
  maxArgDepth?: number;
  /** Maximum depth of guarded calls made from inside guarded calls. @default 16 */
  maxCallDepth?: number;
  /** Flood control: approval requests one principal may have pending at once. @default 20 */
  maxPendingApprovals?: number;
  /** Flood control: approval requests one principal may make per minute. @default 60 */
  approvalsPerMinute?: number;
  /** How long one state-store operation may take; slower denies (`STORE_UNAVAILABLE`). @default '1s' */
  storeTimeout?: Duration;
  /**
   * Loop protection: maximum guarded calls per session (`context.session`) in any 24 hours;
   * more deny with `RATE_LIMITED`. @default unlimited
   */
  maxSessionCalls?: number;
}

/** Options of `createGuard`. */
export interface GuardOptions<D extends OnDeny = 'throw'> {
  /** The policy engine. Required: there is no implicit allow-all. */
  policy: PolicyEngine;
  /** Answers `ask` decisions. Without one, `ask` denies with `NO_APPROVER`. */
  approver?: ApprovalProvider;
  /** Audit sink(s), optionally with a mode. */
  audit?: AuditOption;
  /** `'throw'` a ToolDeniedError (default) or `'return'` a ToolDenial the model can read. @default 'throw' */
  onDeny?: D;
  /** How much of a denial the model reads: `'code'`, `'reason'` or `'full'`. @default 'reason' */
  denialDetail?: DenialDetail;
  /**
   * Clock in epoch ms. The default is read once as a call starts; the call's records within a
   * second of it add the time since on `performance.now()` (docs/audit.md). A custom clock is read
   * for every record, and must answer a finite number: a throw or any other answer denies the
   * call it happens in (`POLICY_ERROR`) and is reported (docs/guard.md). @default Date.now
   */
  now?: () => number;
  /**
   * Id generator for calls, approval requests and events: a string of 1 to 256 characters, unique
   * (a throw or any other answer is handled as for `now`). @default nanoid's format: 21 URL-safe
   * symbols, 126 random bits
   */
  generateId?: () => string;
  /**
   * Shared state: rate limits, concurrency slots, budgets, suspensions, grants and pending
   * approvals. Share one store (e.g. `redisStore()` from `toolgate/redis`) between processes to
   * share limits. @default memoryStore()
   */
  store?: StateStore;
  defaults?: GuardDefaults;
  /**
   * Agent identity: every call presents a credential (`withCredential`, or `context.credential`)
   * that the guard verifies before the policy; its claims set the context's identity fields.
   */
  identity?: IdentityOptions;
  /** Secrets handed to tools just in time, and scrubbed from everything returned or recorded. */
  secrets?: SecretsOptions;
}

/** The guard's `identity` option (docs/identity.md). */
export interface IdentityOptions {
  /** The key set that verifies credentials (`createKeySet` from `toolgate/identity`). */
  keys: KeySet;
  /** The agent registry: its store holds revocations and suspensions. */
  registry: AgentRegistry;
  /** This service's name: a credential's `aud` must contain it. */
  audience: string;
  /** Deny calls without a credential (`UNAUTHENTICATED`). @default true */
  require?: boolean;
  /** Clock difference tolerated on `nbf`, `exp` and `iat` (at most 5 minutes). @default '60s' */
  clockSkew?: Duration;
}

/** Options of one guarded tool. */
export interface ToolOptions {
  /** The name policies match on, e.g. `'payments.refund'`. */
  name: string;
  /** Standard Schema for the arguments (zod, valibot, arktype…); keys it drops are refused. */
  input?: StandardSchemaV1;
  description?: string;
  risk?: string;
  tags?: readonly string[];
  /**
   * Secrets the tool receives in `options.secrets` (names bound to it by the guard's `secrets`
   * option; a name no binding gives to this tool throws `ConfigurationError` here).
   */
  secrets?: readonly string[];
}

/** Per-call options of a guarded tool. */
export interface CallOptions {
  /** Merged over the context from `withContext`. */
  context?: ToolContext;
  /** Cancels the call (before or during execution). */
  signal?: AbortSignal;
  /** The host framework's id for this call, recorded for correlation. */
  toolCallId?: string;
}

/** What the wrapped function receives as its second argument. */
export interface ToolCallOptions {
  /** Aborted on timeout or when the caller cancels. */
  readonly signal: AbortSignal;
  readonly callId: string;
  readonly parentCallId?: string;
  readonly context: DeepReadonly<ToolContext>;
  /**
   * The decision's obligations, so the tool can push them down (e.g. a `LIMIT` for `maxRows`).
   * The guard enforces them on the result either way.
   */
  readonly obligations?: Readonly<Obligations>;
  /**
   * The secrets the tool declared (`secrets: ['stripe']` in its options), fetched for this call
   * from the guard's `secrets` provider; empty for a tool that declared none.
   */
  readonly secrets: Readonly<Record<string, string>>;
}

/** A tool wrapped by the guard: same arguments and result, plus per-call options. */
export type GuardedTool<A, R, D extends OnDeny = 'throw'> = ((
  args: A,
  options?: CallOptions,
) => Promise<D extends 'return' ? R | ToolDenial : R>) & { readonly toolName: string };

/** A guard: wraps tools and decides every call. */
export interface Guard<D extends OnDeny = 'throw'> {
  /** Wraps `fn` so every call goes through the pipeline. */
  guard<A, R>(
    fn: (args: A, options: ToolCallOptions) => R,
    options: ToolOptions,
  ): GuardedTool<A, Awaited<R>, D>;
  /**
   * Dry run: the decision a call would get now. It runs the steps of a call up to the approval
   * (context, credential, snapshot, schema, redaction, policy, grants, approver, limits) in peek mode: grants
   * and limits are looked at and never used, nobody is asked, nothing runs or is recorded. An
   * `ask` comes back as it is; an unregistered tool denies (`UNKNOWN_TOOL`).
   */
  check(tool: string, args: unknown, context?: ToolContext): Promise<Decision>;
  /** Runs `fn` with `context` applied to every guarded call made inside it. */
  withContext<T>(context: ToolContext, fn: () => T): T;
  /**
   * Runs `fn` with an agent credential presented by every guarded call made inside it (a guard
   * with the `identity` option verifies it; a per-call `context.credential` takes precedence).
   *
   * @example
   * await tg.withCredential(token, () => runAgent());
   */
  withCredential<T>(credential: string, fn: () => T): T;
  on<E extends keyof GuardEvents>(event: E, listener: (...args: GuardEvents[E]) => void): Guard<D>;
  off<E extends keyof GuardEvents>(event: E, listener: (...args: GuardEvents[E]) => void): Guard<D>;
  once<E extends keyof GuardEvents>(event: E, listener: (...args: GuardEvents[E]) => void): Guard<D>;
  /**
   * Use-case access issued up front (or by remembered approvals): `issue`, `list`, `revoke`. A
   * live grant in scope turns a default deny or an `ask` into allow if it meets what the call needs,
   * and never overrides a deny rule. It never lowers the bar (G15): a remembered approval answers
   * only asks its approvers would meet afresh (quorum, approver globs, separation of duties against
   * the call's principal) and no default deny; a host grant answers only asks any one approval meets.
   */
  readonly grants: GrantsApi;
  /**
   * Kill switch: denies every call of one tool, agent, principal or session (`SUSPENDED`) from the
   * next call on, in every process sharing the store, until `resume()` or `for` elapses.
   *
   * @example
   * await tg.suspend({ agent: 'support-bot', reason: 'incident 42', for: '1h' });
   */
  suspend(options: SuspendOptions): Promise<ActiveSuspension>;
  /** Lifts a suspension; resolves `true` if one was in force. */
  resume(target: SuspendTarget): Promise<boolean>;
  /** Suspensions in force now. */
  suspensions(): Promise<ActiveSuspension[]>;
  /** How much of a denial the model reads (the `denialDetail` option); adapters follow it. */
  readonly denialDetail: DenialDetail;
  /** The policy engine this guard decides with (for tooling such as the console). */
  readonly policy: PolicyEngine;
  /**
   * Writes and flushes what every audit sink was given (retrying what it holds for retry), each
   * sink within `timeout` (default 30 s). Rejects (`AUDIT_UNAVAILABLE`) naming each sink that
   * could not, or did not in time; the sinks keep what they could not write for a retry.
   */
  flush(options?: ShutdownOptions): Promise<void>;
  /**
   * Flushes and closes the audit sinks, then closes the approver and the policy engine, each
   * within `timeout` (default 30 s). Everything is closed whatever fails; rejects
   * (`AUDIT_UNAVAILABLE`) when records could not be written, and says which. Closing again
   * returns the first close's outcome.
   */
  close(options?: ShutdownOptions): Promise<void>;
}
