import type {
  ApprovalRequirements,
  Awaitable,
  DeepReadonly,
  Duration,
  JsonObject,
  ToolContext,
} from '../types.ts';

/** What an approver is shown and asked to decide. */
export interface ApprovalRequest {
  /** Unique id of this approval request; the response must name it. */
  readonly id: string;
  readonly callId: string;
  /** The tool name. */
  readonly tool: string;
  /** The canonical, redacted arguments (never a model-written summary). */
  readonly args: DeepReadonly<JsonObject>;
  /** SHA-256 of the canonical JSON of the unredacted arguments; the approval binds to it. */
  readonly argsHash: string;
  readonly context: DeepReadonly<ToolContext>;
  /** Why approval is needed (from the deciding rules). */
  readonly reason: string;
  /** The rules that asked. */
  readonly rules: readonly string[];
  /** Epoch ms after which an answer is ignored. */
  readonly expiresAt: number;
  readonly policyVersion?: string;
  readonly requirements?: ApprovalRequirements;
  /**
   * With a quorum: the approvers whose approval has already been counted for this request. A
   * provider asked again must bring an answer from someone else.
   */
  readonly approvedBy?: readonly string[];
  /**
   * The JSON Schema (draft 2020-12) of the tool's input, when its Standard Schema can produce one
   * (zod 4, arktype): an approver can check edited arguments before answering. The guard validates
   * edits against the tool's own schema either way.
   */
  readonly inputSchema?: DeepReadonly<JsonObject>;
  /** The tool's risk label (`guard(fn, { risk })`), if it has one. */
  readonly risk?: string;
  /**
   * `false` when the tool's input schema does not give these args back unchanged (it transforms
   * them, e.g. dollars into cents): an edit is accepted only if the schema keeps it exactly as
   * approved, so a channel should not offer editing. Absent otherwise.
   */
  readonly editable?: false;
}

/** Scope of a grant created by a remembered approval (see the approvals docs). */
export interface RememberOptions {
  /** How long the grant lives, e.g. `'1h'`. */
  for: Duration;
  /** What the grant covers; without it: the same tool, agent, principal and args hash. */
  scope?: JsonObject;
  maxUses?: number;
}

/** An approver's answer. Anything not exactly of this shape denies the call. */
export type ApprovalResponse =
  | {
      requestId: string;
      approved: true;
      /** Who approved, e.g. `'user:7'`. */
      approver: string;
      /** Edited arguments: re-validated and re-evaluated before they run. */
      args?: JsonObject;
      remember?: RememberOptions;
    }
  | {
      requestId: string;
      approved: false;
      approver: string;
      reason: string;
    };

/** What the guard passes to `ApprovalProvider.request` besides the request. */
export interface ApprovalRequestOptions {
  /** Fires on timeout or when the caller cancels; stop waiting then. */
  signal: AbortSignal;
  /**
   * Report an answer that arrived after the request was settled (a late or second answer). It is
   * ignored and recorded as an `approval-response` audit event with `late: true`.
   */
  onLateResponse?: (response: unknown) => void;
}

/**
 * Routes an approval request to a human (or to code) and returns the answer.
 * A throw, a rejection, no answer before the timeout or the caller's abort, or a malformed answer
 * denies the call.
 */
export interface ApprovalProvider {
  readonly name: string;
  request(request: ApprovalRequest, options: ApprovalRequestOptions): Awaitable<ApprovalResponse>;
  close?(): Awaitable<void>;
}
