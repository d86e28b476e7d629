import type { ApprovalProvider } from '../../approval/types.ts';
import { type HostApproverOptions, hostApprover } from '../_shared/host-approver.ts';

/**
 * An approval provider for the guard that answers `ask` decisions with the answer a person gave in
 * the AI SDK's own approval flow (`toolApproval(tg)` → `respondToApproval()`), recorded with who
 * gave it. Calls without one go to `fallback`, or are denied and the wiring mistake is reported
 * once (a `warning` event on the guard and a process warning).
 *
 * @example
 * const tg = createGuard({ policy, approver: aiSdkApprover() });
 */
export function aiSdkApprover(options: HostApproverOptions = {}): ApprovalProvider {
  return hostApprover('ai-sdk', options, {
    code: 'NO_FRAMEWORK_ANSWER',
    message:
      "aiSdkApprover() was asked to approve a call that did not come through the AI SDK's approval flow (guardTools + toolApproval(tg)): give it a fallback approver for such calls",
  });
}
