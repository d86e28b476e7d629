import { callSafely } from '../_internal/fail-closed.ts';
import { deny, describeError } from '../policy/evaluate.ts';
import type { DenyDecision, JsonObject, ToolRequest } from '../types.ts';
import type { ApprovalProvider, ApprovalRequest, ApprovalResponse } from './types.ts';

/** How the approval step ended. */
export type ApprovalOutcome =
  | {
      ok: true;
      response: Extract<ApprovalResponse, { approved: true }>;
      /** Edited arguments from the approver, not yet snapshotted or validated. */
      editedArgs?: unknown;
    }
  | { ok: false; decision: DenyDecision; response?: ApprovalResponse; late?: boolean };

const APPROVED_KEYS = new Set(['requestId', 'approved', 'approver', 'args', 'remember']);
const DENIED_KEYS = new Set(['requestId', 'approved', 'approver', 'reason']);

/**
 * Sends one approval request and validates the answer, failing closed: timeout, abort, throw,
 * rejection, an answer that is not exactly an `ApprovalResponse`, or an answer for another request
 * all deny with their own code.
 */
export async function requestApproval(
  provider: ApprovalProvider,
  request: ApprovalRequest,
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<ApprovalOutcome> {
  const result = await callSafely(
    (control) => provider.request(request, { signal: control.signal }),
    options,
  );
  if (!result.ok) {
    if (result.reason === 'timeout') {
      return {
        ok: false,
        decision: deny('APPROVAL_TIMEOUT', `no answer from ${provider.name} in time`, request.rules),
      };
    }
    if (result.reason === 'aborted') {
      return {
        ok: false,
        decision: deny('CANCELLED', 'the call was cancelled while waiting for approval', request.rules),
      };
    }
    return {
      ok: false,
      decision: deny(
        'APPROVAL_ERROR',
        `approver ${provider.name} failed: ${describeError(result.error)}`,
        request.rules,
      ),
    };
  }
  const problem = responseProblem(result.value);
  if (problem !== undefined) {
    return {
      ok: false,
      decision: deny(
        'APPROVAL_INVALID',
        `approver ${provider.name} answered badly: ${problem}`,
        request.rules,
      ),
    };
  }
  const response = result.value as ApprovalResponse;
  if (response.requestId !== request.id) {
    return {
      ok: false,
      decision: deny('APPROVAL_MISMATCH', 'the answer was for another approval request', request.rules),
      response,
    };
  }
  if (!response.approved) {
    return {
      ok: false,
      decision: deny('APPROVAL_DENIED', `denied by ${response.approver}: ${response.reason}`, request.rules),
      response,
    };
  }
  return response.args === undefined
    ? { ok: true, response }
    : { ok: true, response, editedArgs: response.args };
}

/** Why a value is not a well-formed ApprovalResponse, or undefined. Exact shape: `true` only. */
export function responseProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const raw = value as Record<string, unknown>;
  if (typeof raw.requestId !== 'string') return 'requestId must be a string';
  if (raw.approved !== true && raw.approved !== false) return 'approved must be true or false';
  if (typeof raw.approver !== 'string' || raw.approver.length === 0)
    return 'approver must be a non-empty string';
  const allowed = raw.approved ? APPROVED_KEYS : DENIED_KEYS;
  for (const key of Reflect.ownKeys(raw)) {
    if (typeof key !== 'string' || !allowed.has(key)) return `unexpected field ${String(key)}`;
  }
  if (raw.approved === false && typeof raw.reason !== 'string') return 'reason must be a string';
  if (
    raw.approved === true &&
    raw.args !== undefined &&
    (typeof raw.args !== 'object' || raw.args === null)
  ) {
    return 'args must be an object';
  }
  if (
    raw.approved === true &&
    raw.remember !== undefined &&
    (typeof raw.remember !== 'object' || raw.remember === null)
  ) {
    return 'remember must be an object';
  }
  return undefined;
}

/** Builds the request an approver sees. */
export function buildApprovalRequest(
  id: string,
  request: ToolRequest,
  decision: {
    reason: string;
    rules: readonly string[];
    policyVersion?: string;
    approval?: ApprovalRequest['requirements'];
  },
  expiresAt: number,
  shownArgs: JsonObject | ToolRequest['args'],
): ApprovalRequest {
  const approval: { -readonly [K in keyof ApprovalRequest]: ApprovalRequest[K] } = {
    id,
    callId: request.callId,
    tool: request.tool.name,
    args: shownArgs as ApprovalRequest['args'],
    argsHash: request.argsHash,
    context: request.context,
    reason: decision.reason,
    rules: decision.rules,
    expiresAt,
  };
  if (decision.policyVersion !== undefined) approval.policyVersion = decision.policyVersion;
  if (decision.approval !== undefined) approval.requirements = decision.approval;
  return Object.freeze(approval);
}
