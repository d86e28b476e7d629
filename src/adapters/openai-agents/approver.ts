import type { ApprovalProvider } from '../../approval/types.ts';
import { type HostApproverOptions, hostApprover } from '../_shared/host-approver.ts';

/**
 * An approval provider for the guard that answers `ask` decisions with the answer a person gave
 * through the SDK's interruptions (`guardTool(t, tg, { ask: 'interruption' })`, then
 * `respondToApproval(result.state, item, answer)`), recorded with who gave it. Other calls go to
 * `fallback`, or are denied and the wiring mistake is reported once (a `warning` event on the
 * guard and a process warning).
 *
 * @example
 * const tg = createGuard({ policy, approver: agentsApprover() });
 */
export function agentsApprover(options: HostApproverOptions = {}): ApprovalProvider {
  return hostApprover('openai-agents', options, {
    code: 'NO_FRAMEWORK_ANSWER',
    message:
      "agentsApprover() was asked to approve a call that did not come through the SDK's interruptions (guardTool(…, { ask: 'interruption' })): give it a fallback approver for such calls",
  });
}
