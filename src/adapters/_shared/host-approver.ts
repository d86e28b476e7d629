import { reportWarning } from '../../_internal/guard-warnings.ts';
import type {
  ApprovalProvider,
  ApprovalRequest,
  ApprovalRequestOptions,
  ApprovalResponse,
} from '../../approval/types.ts';
import { type AdapterName, currentHostCall, type MissingAnswer, optionalId } from './host-call.ts';

/** Options of the approvers that answer from a host framework's own approval flow. */
export interface HostApproverOptions {
  /** Answers approval requests that have no framework approval (e.g. calls made outside the framework). Without it they are denied. */
  fallback?: ApprovalProvider;
}

/**
 * An approval provider that answers with the approval the host framework already collected for
 * the call being run (single use), and otherwise asks `fallback` or denies, reporting the wiring
 * mistake once.
 */
export function hostApprover(
  adapter: AdapterName,
  options: HostApproverOptions,
  missing: MissingAnswer,
): ApprovalProvider {
  const fallback = options.fallback;
  return {
    name: adapter,
    request(request: ApprovalRequest, signalOptions: ApprovalRequestOptions) {
      const current = currentHostCall();
      const call = current !== undefined && current.tool === request.tool ? current : undefined;
      const answer = call?.approval;
      if (call !== undefined) {
        call.approval = undefined;
        if (answer !== undefined) call.used = true;
      }
      if (answer === undefined) {
        // A call the framework will not run (toolgate denied it up front): no one to ask.
        if (call?.notRun !== undefined) return refusal(request, adapter, call.notRun.reason);
        if (fallback !== undefined) return fallback.request(request, signalOptions);
        const problem = (typeof call?.missing === 'function' ? call.missing() : call?.missing) ?? missing;
        reportWarning(call?.guard, {
          code: problem.code,
          message: problem.message,
          source: adapter,
          tool: request.tool,
          ...optionalId(call?.toolCallId),
        });
        return refusal(request, adapter, 'no one approved this call');
      }
      if (answer.bypassed !== undefined)
        reportWarning(call?.guard, {
          code: answer.bypassed.code,
          message: answer.bypassed.message,
          source: adapter,
          tool: request.tool,
          ...optionalId(call?.toolCallId),
        });
      if (!answer.approved)
        return refusal(request, answer.approver, answer.reason ?? 'the user rejected the call');
      const response: ApprovalResponse = { requestId: request.id, approved: true, approver: answer.approver };
      if (answer.args !== undefined) response.args = answer.args;
      return response;
    },
    close() {
      return fallback?.close?.();
    },
  };
}

function refusal(request: ApprovalRequest, approver: string, reason: string): ApprovalResponse {
  return { requestId: request.id, approved: false, approver, reason };
}
