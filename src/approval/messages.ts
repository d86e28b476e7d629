import { identityProblem } from '../_internal/names.ts';
import { snapshot } from '../_internal/snapshot.ts';
import type { ToolRequest } from '../types.ts';
import type { ShownCall } from './approver-view.ts';
import { inputSchemaOf, schemaOutcome } from './input-schema.ts';
import type { ApprovalProvider, ApprovalRequest } from './types.ts';

// The messages of an approval: the request an approver receives, and the check of its answer.

const APPROVED_KEYS = new Set(['requestId', 'approved', 'approver', 'args', 'remember']);
const DENIED_KEYS = new Set(['requestId', 'approved', 'approver', 'reason']);

/** Why a value is not a well-formed ApprovalResponse, or undefined. Exact shape: `true` only. */
export function responseProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const raw = value as Record<string, unknown>;
  if (typeof raw.requestId !== 'string') return 'requestId must be a string';
  if (raw.approved !== true && raw.approved !== false) return 'approved must be true or false';
  if (typeof raw.approver !== 'string' || raw.approver.length === 0)
    return 'approver must be a non-empty string';
  // One person, one name: invisible characters or outer spaces would count them twice in a quorum.
  const approver = identityProblem(raw.approver, 'approver');
  if (approver !== undefined) return approver;
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

/** Builds the request an approver sees: the call's data as `shown` (src/approval/approver-view.ts). */
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
  shown: ShownCall,
): ApprovalRequest {
  const approval: { -readonly [K in keyof ApprovalRequest]: ApprovalRequest[K] } = {
    id,
    callId: request.callId,
    tool: request.tool.name,
    args: shown.args,
    argsHash: request.argsHash,
    context: shown.context,
    reason: shown.reason,
    rules: decision.rules,
    expiresAt,
  };
  if (decision.policyVersion !== undefined) approval.policyVersion = decision.policyVersion;
  if (decision.approval !== undefined) approval.requirements = decision.approval;
  const inputSchema = inputSchemaOf(request.tool);
  if (inputSchema !== undefined) approval.inputSchema = inputSchema;
  // The schema does not give these args back unchanged (it transforms them): an edit of them would
  // be refused, so channels offer none.
  const kept = schemaOutcome(request.tool, request.args);
  if (kept === 'changed' || kept === 'refused') approval.editable = false;
  if (request.tool.risk !== undefined) approval.risk = request.tool.risk;
  return Object.freeze(approval);
}

/** An approver as records and reasons name it: its `name`, or `unnamed` when it gives none. */
export function approverName(approver: ApprovalProvider): string {
  try {
    const name: unknown = approver.name;
    return typeof name === 'string' && name !== '' ? name : 'unnamed';
  } catch {
    return 'unnamed';
  }
}

/** Bounds the work of reading an answer (edited arguments are held to the guard's own caps later). */
const ANSWER_LIMITS = { maxBytes: 16 * 1024 * 1024, maxDepth: 64 };

/**
 * An approver's answer as a frozen copy of plain data (src/_internal/snapshot.ts), or why it cannot
 * be read as one (an accessor, a Proxy, a class instance). Anything but an object is left to
 * `responseProblem`, which names it.
 */
export function readAnswer(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const copy = snapshot(value, ANSWER_LIMITS);
  return copy.ok ? copy.value : `the answer cannot be read as data: ${copy.problem}`;
}
