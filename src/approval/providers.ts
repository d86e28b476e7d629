import type { Awaitable } from '../types.ts';
import type { ApprovalProvider, ApprovalRequest, ApprovalResponse } from './types.ts';

/**
 * An approver that lets host code decide. The callback receives the request and the signal that
 * fires on timeout or cancellation.
 *
 * @example
 * const approver = callbackApprover(async (request) =>
 *   request.tool === 'payments.refund' && Number(request.args.amount) < 500
 *     ? { requestId: request.id, approved: true, approver: 'ops:auto' }
 *     : { requestId: request.id, approved: false, approver: 'ops:auto', reason: 'too large' },
 * );
 */
export function callbackApprover(
  fn: (request: ApprovalRequest, options: { signal: AbortSignal }) => Awaitable<ApprovalResponse>,
  options: { name?: string } = {},
): ApprovalProvider {
  return { name: options.name ?? 'callback', request: fn };
}

/** Approves every request as `approver` (default `'auto'`). For tests and development only. */
export function autoApprove(options: { approver?: string } = {}): ApprovalProvider {
  const approver = options.approver ?? 'auto';
  return {
    name: 'auto-approve',
    request: (request) => ({ requestId: request.id, approved: true, approver }),
  };
}

/** Denies every request. For tests, and as an explicit "never approve" choice. */
export function autoDeny(options: { approver?: string; reason?: string } = {}): ApprovalProvider {
  const approver = options.approver ?? 'auto';
  const reason = options.reason ?? 'automatically denied';
  return {
    name: 'auto-deny',
    request: (request) => ({ requestId: request.id, approved: false, approver, reason }),
  };
}
