import type { OutputCut } from '../limits/output.ts';
import type { Awaitable, DeepReadonly, DenyCode, JsonObject, JsonValue } from '../types.ts';
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
  /** Approvers whose approval allowed the call. */
  readonly approvers?: readonly string[];
  /** Time from the start of the call to the decision, in milliseconds. */
  readonly durationMs: number;
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

/** Every audit event, discriminated on `type`. */
export type AuditEvent =
  | DecisionEvent
  | ApprovalRequestEvent
  | ApprovalResponseEvent
  | GrantUsedEvent
  | ResultEvent
  | PolicyReloadEvent
  | SuspensionEvent;

/** Every event `type`, in schema order. */
export const AUDIT_EVENT_TYPES: readonly AuditEvent['type'][] = Object.freeze([
  'decision',
  'approval-request',
  'approval-response',
  'grant-used',
  'result',
  'policy-reload',
  'suspension',
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
