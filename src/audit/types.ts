import type { GrantApproval } from '../approval/grant-types.ts';
import type { OutputCut } from '../limits/output.ts';
import type { Awaitable, DeepReadonly, DenyCode, FailedCondition, JsonObject, JsonValue } from '../types.ts';
import type { OutputCaptureOptions, OutputShape } from './output.ts';
import type { RedactOptions } from './redact.ts';

/** Version of the audit event schema; bumped on any incompatible change. */
export const AUDIT_SCHEMA_VERSION = 1;

/** Fields every audit event carries. */
export interface AuditEventBase {
  /** Schema version (see `AUDIT_SCHEMA_VERSION`). */
  readonly v: 1;
  /** Unique event id. */
  readonly id: string;
  /** Epoch ms from the guard's clock. */
  readonly ts: number;
  readonly callId: string;
  readonly parentCallId?: string;
  /** The host framework's own id for the call (e.g. the AI SDK `toolCallId`), for correlation. */
  readonly toolCallId?: string;
  /** The tool name. */
  readonly tool: string;
  readonly agent?: string;
  readonly principal?: string;
  readonly intent?: string;
  readonly session?: string;
  readonly attributes?: DeepReadonly<JsonObject>;
  /** SHA-256 (hex) of the canonical JSON of the arguments. */
  readonly argsHash: string;
  /** The arguments, redacted; absent when the guard records hashes only. */
  readonly args?: DeepReadonly<JsonObject>;
  readonly policyVersion?: string;
}

/** The one decision record of a call: the final outcome after policy, limits and approval. */
export interface DecisionEvent extends AuditEventBase {
  readonly type: 'decision';
  /** Whether the call may run. */
  readonly decision: 'allow' | 'deny';
  /** What the policy engine answered before approval and limits (`ask` means a human was asked). */
  readonly policyDecision: 'allow' | 'deny' | 'ask';
  /** The deny code, for denials. */
  readonly code?: DenyCode;
  readonly rules: readonly string[];
  readonly reason?: string;
  /** For denials: the rule that decided it (the deny rule, or the nearest rule that did not allow). */
  readonly rule?: string;
  /** For denials: the conditions that failed (path, expected, actual), redacted; `[]` when none is known. */
  readonly failed?: readonly FailedCondition[];
  /** Approvers whose approval allowed the call. */
  readonly approvers?: readonly string[];
  /** Time from the start of the call to the decision, in milliseconds. */
  readonly durationMs: number;
  /**
   * With the guard's `identity` option: whether the call's identity fields came from a verified
   * credential. Absent without identity.
   */
  readonly verified?: boolean;
  /** The verified credential's id (`jti`); never the token. */
  readonly credentialId?: string;
  /** The kid of the key that signed the verified credential. */
  readonly keyId?: string;
  /** The secrets the tool declared (names only, never a value). */
  readonly secrets?: readonly string[];
}

export interface ApprovalRequestEvent extends AuditEventBase {
  readonly type: 'approval-request';
  readonly requestId: string;
  readonly provider: string;
  readonly reason: string;
  readonly rules: readonly string[];
  readonly expiresAt: number;
}

export interface ApprovalResponseEvent extends AuditEventBase {
  readonly type: 'approval-response';
  readonly requestId: string;
  /** `true` approved, `false` denied; absent when no valid answer arrived. */
  readonly approved?: boolean;
  readonly approver?: string;
  /** Set when the approval step failed (`APPROVAL_TIMEOUT`, `APPROVAL_INVALID`, …). */
  readonly code?: DenyCode;
  readonly reason?: string;
  /** The approver edited the arguments; `argsHash` is the hash of the edited arguments. */
  readonly edited?: boolean;
  /** The answer arrived after the request had already been settled and was ignored. */
  readonly late?: boolean;
}

export interface GrantUsedEvent extends AuditEventBase {
  readonly type: 'grant-used';
  readonly grantId: string;
  /** `'host'`, or the approver whose remembered approval issued the grant. */
  readonly issuedBy?: string;
  /** For a remembered approval: who approved it, and under which requirement. */
  readonly approval?: GrantApproval;
}

export interface ResultEvent extends AuditEventBase {
  readonly type: 'result';
  /** `ok`: returned; `error`: threw; `timeout`: ran past its timeout; `cancelled`: aborted by the caller. */
  readonly outcome: 'ok' | 'error' | 'timeout' | 'cancelled';
  /** Execution time in milliseconds. */
  readonly durationMs: number;
  /** Serialized size of the output in bytes (UTF-8), when it is JSON data. */
  readonly outputBytes?: number;
  /** What the `maxRows` / `maxBytes` obligations cut from the output. */
  readonly outputCut?: OutputCut;
  /** The error's name and message (redacted), when the tool threw. */
  readonly error?: { readonly name: string; readonly message: string };
  /** JSON type of the output and its size (items, keys or characters). Always recorded. */
  readonly outputShape?: OutputShape;
  /** The output, redacted; only with `audit.output.capture`. A string when it was cut. */
  readonly output?: JsonValue;
  /** The captured output was longer than `audit.output.maxBytes` and was cut. */
  readonly outputTruncated?: boolean;
  /** `'failed'`: the output could not be redacted, so none of it was recorded. */
  readonly outputRedaction?: 'failed';
}

/** Call fields a policy-reload event never has (kept so code reading any event still type-checks). */
export type AbsentCallFields = {
  readonly [K in Exclude<keyof AuditEventBase, 'v' | 'id' | 'ts' | 'policyVersion'>]?: undefined;
};

/**
 * The policy was loaded or reloaded. Not tied to a call: `callId`, `tool` and `argsHash` are absent.
 */
export interface PolicyReloadEvent extends AbsentCallFields {
  readonly v: 1;
  readonly id: string;
  readonly ts: number;
  readonly type: 'policy-reload';
  /** Version of the policy now in force. */
  readonly policyVersion?: string;
  /** Version that was in force before. */
  readonly previousVersion?: string;
  /** Where the policy came from (a file path, a URL). */
  readonly source?: string;
  /** `false` when the reload failed and the previous policy stays in force. */
  readonly ok: boolean;
  /** Number of rules now in force. */
  readonly rules?: number;
  readonly reason?: string;
}

/**
 * A kill switch was set or lifted (`tg.suspend()` / `tg.resume()`). Not tied to a call: `callId`,
 * `tool` and `argsHash` are absent.
 */
export interface SuspensionEvent extends AbsentCallFields {
  readonly v: 1;
  readonly id: string;
  readonly ts: number;
  readonly type: 'suspension';
  readonly action: 'suspend' | 'resume';
  /** What was suspended: one of these fields of a call, with this value. */
  readonly field: 'tool' | 'agent' | 'principal' | 'session';
  readonly value: string;
  /** When the suspension lapses by itself, epoch ms. */
  readonly until?: number;
  readonly reason?: string;
  /** On resume: whether a suspension was in force. */
  readonly lifted?: boolean;
}

/**
 * A change to agent identity (`toolgate/identity`): an agent registered, suspended, resumed or
 * revoked, a credential issued, delegated or revoked. Not tied to a call: `callId`, `tool` and
 * `argsHash` are absent; `agent` (and for credentials `principal`, `intent`, `session`) name who.
 * Never carries a token, only its id.
 */
export interface IdentityEvent extends Omit<AbsentCallFields, 'agent' | 'principal' | 'intent' | 'session'> {
  readonly v: 1;
  readonly id: string;
  readonly ts: number;
  readonly type: 'identity';
  readonly action: 'register' | 'suspend' | 'resume' | 'revoke' | 'revoke-credential' | 'issue' | 'delegate';
  /** The agent concerned (for a credential: its `sub`). */
  readonly agent?: string;
  readonly principal?: string;
  readonly intent?: string;
  readonly session?: string;
  /** The credential's `jti` (issue, delegate, revoke-credential). */
  readonly credentialId?: string;
  /** The parent credential's `jti` (delegate). */
  readonly parent?: string;
  /** The signing key's id (issue, delegate). */
  readonly keyId?: string;
  /** Tool globs: of the credential, or of the agent's ceiling (register). */
  readonly tools?: readonly string[];
  /** Principal globs of the ceiling (register). */
  readonly principals?: readonly string[];
  /** Longest credential life of the ceiling, ms (register). */
  readonly maxTtlMs?: number;
  readonly owner?: string;
  /** The registration revision (register); bumped when a ceiling narrows. */
  readonly revision?: number;
  /** The registration narrowed an existing ceiling, ending the credentials issued under it. */
  readonly narrowed?: boolean;
  readonly audience?: readonly string[];
  /** When the credential expires, or the suspension lapses, epoch ms. */
  readonly expiresAt?: number;
  readonly until?: number;
  readonly reason?: string;
  /** On resume: whether a suspension was in force. On revoke-credential: whether the id was known. */
  readonly lifted?: boolean;
  readonly known?: boolean;
}

/** What a person did in the console (`toolgate/console`). */
export type ConsoleAction =
  | 'sign-in'
  | 'sign-out'
  | 'approve'
  | 'deny'
  | 'revoke-grant'
  | 'suspend'
  | 'resume'
  | 'export';

/**
 * An action taken in the console, by a signed-in account (or, for `sign-in`, a name tried).
 * State changes are recorded twice: `requested` before anything happens (a failed write stops the
 * action), then `ok`, `refused` or `failed`. Not a call's own record (`callId` is absent, so
 * sinks never take it for one); `forCallId` and `forTool` name the call an answer was for.
 */
export interface ConsoleEvent extends AbsentCallFields {
  readonly v: 1;
  readonly id: string;
  readonly ts: number;
  readonly type: 'console';
  readonly action: ConsoleAction;
  /** The account name (for a failed sign-in: the name that was tried). */
  readonly account: string;
  readonly role?: 'viewer' | 'approver' | 'admin';
  readonly outcome: 'requested' | 'ok' | 'refused' | 'failed';
  /** What the action was on: an approval request id, a grant id, `agent=support-bot`, … */
  readonly target?: string;
  readonly forCallId?: string;
  readonly forTool?: string;
  /** Why it was refused or failed, or the reason given (a denial's reason, a suspension's). */
  readonly reason?: string;
  /** Extra facts: an approval's edited-args hash, a remember scope, an export's filter. */
  readonly details?: DeepReadonly<JsonObject>;
  readonly policyVersion?: undefined;
}

/** Every audit event, discriminated on `type`. */
export type AuditEvent =
  | DecisionEvent
  | ApprovalRequestEvent
  | ApprovalResponseEvent
  | GrantUsedEvent
  | ResultEvent
  | PolicyReloadEvent
  | SuspensionEvent
  | IdentityEvent
  | ConsoleEvent
  | AccessEvent;

/**
 * What the door of a network entry point did with a client (the MCP proxy's Streamable HTTP
 * listener, `toolgate mcp-proxy --listen`): a session started or ended, or a request refused
 * before it reached the guard. Not a call's own record (`callId` is absent). Never carries a
 * token or a session id. Refusals are recorded up to 20 a second per listener; the ones beyond
 * are counted, and the count is recorded once that second is over (`code: 'SUPPRESSED'`).
 */
export interface AccessEvent extends Omit<AbsentCallFields, 'agent' | 'principal'> {
  readonly v: 1;
  readonly id: string;
  readonly ts: number;
  readonly type: 'access';
  /** The entry point. */
  readonly door: 'mcp-http';
  readonly action: 'session-start' | 'session-end' | 'refused';
  /** The proxied server's name. */
  readonly server?: string;
  /** Who the credential names, once it verified. */
  readonly agent?: string;
  readonly principal?: string;
  /** The HTTP status of a refusal. */
  readonly status?: number;
  /**
   * Why a request was refused: `FORBIDDEN_HOST` (Host or Origin not the listener's),
   * `NO_CREDENTIAL`, the code `authenticate` gave (e.g. `CREDENTIAL_EXPIRED`),
   * `AUTHENTICATE_FAILED` (it threw), `FOREIGN_SESSION`, `UNKNOWN_SESSION`, `SESSION_REFUSED`
   * (its server could not be started), or `SUPPRESSED` (a count of refusals over the rate).
   */
  readonly code?: string;
  /** Why, in words (a refusal), or why a session ended. */
  readonly reason?: string;
  /** With `SUPPRESSED`: refusals not recorded one by one. */
  readonly suppressed?: number;
  /** How long the session lasted, ms (`session-end`). */
  readonly durationMs?: number;
  readonly policyVersion?: undefined;
}

/** Every event `type`, in schema order. */
export const AUDIT_EVENT_TYPES: readonly AuditEvent['type'][] = Object.freeze([
  'decision',
  'approval-request',
  'approval-response',
  'grant-used',
  'result',
  'policy-reload',
  'suspension',
  'identity',
  'console',
  'access',
] as const);

/**
 * Where audit events go. `write` may be synchronous. Sinks record and never decide.
 *
 * @example
 * const sink: AuditSink = { name: 'stdout', write: (event) => console.log(JSON.stringify(event)) };
 */
export interface AuditSink {
  readonly name: string;
  write(event: AuditEvent): Awaitable<void>;
  /**
   * Optional: resolves only once the event is on stable storage. Fail-closed mode uses it (instead
   * of `write`) for decision records.
   */
  writeDurable?(event: AuditEvent): Promise<void>;
  /** Optional: the guard registers a handler for failures the sink finds in the background. */
  onError?(handler: (error: unknown) => void): void;
  /** Writes out anything buffered. */
  flush?(): Promise<void>;
  /** Flushes and releases resources; no writes after it. */
  close?(): Promise<void>;
}

/**
 * `best-effort`: a call never waits on a sink; failures raise `error` events.
 * `fail-closed`: a call runs only after its decision record is written; a failure denies it
 * (`AUDIT_UNAVAILABLE`).
 */
export type AuditMode = 'best-effort' | 'fail-closed';

/** The `audit` option of `createGuard`. */
export type AuditOption =
  | AuditSink
  | readonly AuditSink[]
  | {
      readonly sinks: readonly AuditSink[];
      readonly mode?: AuditMode;
      /** How long a durable write may take in fail-closed mode. @default '5s' */
      readonly timeout?: number | string;
      /** Redaction of records and approval prompts (`false` turns it off). @default all detectors */
      readonly redact?: RedactOptions | false;
      /** Output capture in result records. @default { capture: false } */
      readonly output?: OutputCaptureOptions;
      /** Events kept per failing sink for retry in best-effort mode. @default 1000 */
      readonly retryBuffer?: number;
    };
