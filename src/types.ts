/** A value or a promise of it, so synchronous implementations can stay synchronous. */
export type Awaitable<T> = T | PromiseLike<T>;

/** A JSON primitive. */
export type JsonPrimitive = string | number | boolean | null;
/** Plain JSON data: what tool arguments, context attributes and audit payloads are made of. */
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
/** A plain JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** Deeply read-only view of a value; snapshots handed to policies and tools are frozen. */
export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/** A duration: milliseconds, or an `ms` string such as `'30s'`, `'5m'`, `'1h'`. */
export type Duration = number | string;

/**
 * Who is calling, for whom, and why. Supplied by the host (never by the model), through
 * `tg.withContext()` and per-call `context`.
 */
export interface ToolContext {
  /** The agent making the call, e.g. `'support-bot'`. */
  agent?: string;
  /** The user or service the agent acts for, e.g. `'user:42'`. */
  principal?: string;
  /** The use case, e.g. `'ticket-123'`. */
  intent?: string;
  /** A conversation or run id. */
  session?: string;
  /** Any further host facts, as JSON data. */
  attributes?: JsonObject;
  /**
   * An agent credential (compact JWS from `toolgate/identity`), per call; verified by a guard with
   * the `identity` option and then removed: engines, approvers and records never see it.
   */
  credential?: string;
  /** Set by the guard (never by the host): the identity fields come from a verified credential. */
  readonly verified?: boolean;
  /** Set by the guard with `verified`: the verified credential's id (`jti`). */
  readonly credentialId?: string;
}

/** Metadata about a guarded tool that policies and approvers may read. */
export interface ToolInfo {
  /** The name policies match on, e.g. `'payments.refund'`. */
  readonly name: string;
  readonly description?: string;
  /** A free-form risk label, e.g. `'low'` or `'high'`. */
  readonly risk?: string;
  readonly tags?: readonly string[];
}

/** Every deny code, for validation and documentation. A denial always carries exactly one of these. */
export const DENY_CODES = [
  'NO_MATCHING_RULE',
  'DENIED_BY_RULE',
  'UNKNOWN_TOOL',
  'INVALID_ARGS',
  'INVALID_CONTEXT',
  'POLICY_ERROR',
  'POLICY_TIMEOUT',
  'NO_APPROVER',
  'APPROVAL_DENIED',
  'APPROVAL_TIMEOUT',
  'APPROVAL_INVALID',
  'APPROVAL_MISMATCH',
  'APPROVAL_ERROR',
  'APPROVAL_RATE_LIMITED',
  'CANCELLED',
  'RATE_LIMITED',
  'CONCURRENCY_LIMITED',
  'BUDGET_EXCEEDED',
  'CALL_DEPTH_EXCEEDED',
  'SUSPENDED',
  'STORE_UNAVAILABLE',
  'AUDIT_UNAVAILABLE',
  'TIMEOUT',
  'UNAUTHENTICATED',
  'CREDENTIAL_INVALID',
  'CREDENTIAL_EXPIRED',
  'CREDENTIAL_REVOKED',
  'AGENT_SUSPENDED',
  'OUT_OF_SCOPE',
  'SECRET_UNAVAILABLE',
  'SECRET_NOT_BOUND',
] as const;
Object.freeze(DENY_CODES);

/** Stable deny codes (the strings of `DENY_CODES`). */
export type DenyCode = (typeof DENY_CODES)[number];

/** What the policy engine, limits and approval steps see of one call. Everything in it is frozen. */
export interface ToolRequest {
  /** Unique id of this call (nanoid unless `generateId` is injected). */
  readonly callId: string;
  /** The call id of the guarded call this one runs inside, if any. */
  readonly parentCallId?: string;
  /** Nesting depth: 0 for a top-level call. */
  readonly depth: number;
  readonly tool: ToolInfo;
  /** The frozen snapshot of the arguments: exactly what the tool will receive. */
  readonly args: DeepReadonly<JsonObject>;
  /** Lowercase hex SHA-256 of the canonical JSON (RFC 8785) of `args`; computed on first read. */
  readonly argsHash: string;
  readonly context: DeepReadonly<ToolContext>;
  /** The guard's clock at the start of the call (epoch ms). Built-in rules read time only from here. */
  readonly now: number;
}

/** Output obligations a decision may attach (enforced after execution). */
export interface Obligations {
  /** Truncate array results to this many items. */
  maxRows?: number;
  /** Cap the serialized size of the result. */
  maxBytes?: number;
  /** A call timeout tighter than the default, in milliseconds. */
  timeout?: number;
  /** Paths to redact from the result before it is recorded. */
  redact?: readonly string[];
}

/** What a limit's counters are keyed by (each listed field of the call, joined). */
export type LimitKeyField = 'tool' | 'agent' | 'principal' | 'session' | 'intent';

/** Limits a rule declares (`limit` in the rule language); enforced before execution via the state store. */
export interface RuleLimits {
  /** `'<count>/<window>'`, e.g. `'20/1m'`. */
  rate?: string;
  /** Maximum calls in flight at once. */
  concurrency?: number;
  /** A running sum per window, e.g. `{ sum: 'args.amount', max: 1000, per: '1d' }`. */
  budget?: {
    /** Path of the numeric argument to add up (`args.*`). */
    sum?: string;
    /** Or a cost function of the request. */
    cost?: (request: ToolRequest) => number;
    max: number;
    per: Duration;
  };
  /** What the counters are keyed by. Default: `['tool', 'principal']`. */
  key?: readonly LimitKeyField[];
}

/** The limits of one applicable rule, as carried on a decision. */
export interface LimitRequirement {
  /** The rule that declared them. */
  readonly rule: string;
  readonly limits: Readonly<RuleLimits>;
}

/** Requirements an `ask` decision places on the approval. */
export interface ApprovalRequirements {
  /** How long to wait for an answer, in milliseconds. */
  timeout?: number;
  /** How many distinct approvers must approve. */
  quorum?: number;
  /** Globs an approver's identity must match. */
  approvers?: readonly string[];
  /** The call's principal may not approve it. */
  separationOfDuties?: boolean;
}

/**
 * A policy decision. Engines return values; only the `guard()` boundary throws.
 * `rules` names the rules that decided it (empty for a default deny).
 */
export type Decision =
  | {
      readonly type: 'allow';
      readonly rules: readonly string[];
      readonly reason?: string;
      readonly obligations?: Obligations;
      /** Limits of every applicable allow/ask rule; all must hold. */
      readonly limits?: readonly LimitRequirement[];
      readonly policyVersion?: string;
    }
  | {
      readonly type: 'deny';
      readonly rules: readonly string[];
      readonly code: DenyCode;
      readonly reason: string;
      readonly retryAfterMs?: number;
      readonly policyVersion?: string;
      /** The conditions that decided the denial (which rule, which path, what was expected). */
      readonly failed?: readonly FailedCondition[];
    }
  | {
      readonly type: 'ask';
      readonly rules: readonly string[];
      readonly reason: string;
      readonly approval?: ApprovalRequirements;
      readonly obligations?: Obligations;
      readonly limits?: readonly LimitRequirement[];
      readonly policyVersion?: string;
    };

/**
 * One condition a denial names: the path read, what the rule expected there, and what was found.
 * For a rule that denies, it is a condition that held (`expected` says what would have avoided it,
 * e.g. `not gt 1000`); for the default deny, one that kept an allow or ask rule from applying.
 * Redacted like every other field that leaves the guard.
 */
export interface FailedCondition {
  /** The rule the condition belongs to. */
  readonly rule?: string;
  /** What was read: `args.sql`, `context.agent`, `tool.name`, or `now` for schedules. */
  readonly path: string;
  /** What the rule expected there, in words: `lte 100`, `one of support-*`, `in the sql scope`. */
  readonly expected: string;
  /** The value found; absent when the value is missing. */
  readonly actual?: JsonValue;
  /** What a scope found wrong with the value, e.g. `reads table customers, outside the scope`. */
  readonly problem?: string;
}

/** A deny decision. */
export type DenyDecision = Extract<Decision, { type: 'deny' }>;

/** What a denied call resolves with when the guard is created with `onDeny: 'return'`. */
export interface ToolDenial {
  readonly denied: true;
  readonly code: DenyCode;
  readonly reason: string;
  readonly tool: string;
  readonly callId: string;
  /** For `RATE_LIMITED`: when a retry may succeed, in milliseconds. */
  readonly retryAfterMs?: number;
  /** The rule that decided the denial, when one did (for the developer; see `denialDetail`). */
  readonly rule?: string;
  /** The conditions that failed, redacted (for the developer; see `denialDetail`). */
  readonly failed: readonly FailedCondition[];
}
