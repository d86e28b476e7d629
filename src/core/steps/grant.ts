import { allowFrom } from '../../approval/approval-flow.ts';
import { grantNeed } from '../../approval/grant-approval.ts';
import type { Grant } from '../../approval/grant-types.ts';
import { deny } from '../../policy/evaluate.ts';
import type { Decision } from '../../types.ts';
import { type Call, requestOf, type StepResult } from '../call.ts';
import type { GuardCore } from '../guard-core.ts';

/**
 * Use-case access issued up front: a live grant in scope turns a default deny (`NO_MATCHING_RULE`)
 * or an `ask` into allow, keeping the ask's obligations and limits; it never overrides a deny rule.
 * A grant never lowers the bar (G15, src/approval/grant-approval.ts): a default deny takes only a
 * host grant, and an ask only a grant whose approvers meet the ask's own requirements. One use is counted (not in a dry run) and recorded as a `grant-used` event. Any other deny stops
 * the call here. `STORE_UNAVAILABLE` when the grants cannot be read.
 */
export function grant(call: Call, core: GuardCore): StepResult | Promise<StepResult> {
  const decision = call.decision!;
  if (decision.type === 'allow') return undefined;
  // Only a default deny (no rule matched) or an `ask` can be turned into allow by a grant.
  if (decision.type === 'ask' || decision.code === 'NO_MATCHING_RULE') return useGrant(call, core, decision);
  return decision;
}

async function useGrant(
  call: Call,
  core: GuardCore,
  decision: Exclude<Decision, { type: 'allow' }>,
): Promise<StepResult> {
  const request = requestOf(call, core.now);
  const need = grantNeed(decision, request);
  if (need === undefined) return decision.type === 'deny' ? decision : undefined;
  const found = await core.grants.find(request, call.peek, need);
  if (!found.ok) {
    const problem = `grants could not be checked: ${found.problem}`;
    return deny('STORE_UNAVAILABLE', problem, decision.rules, decision.policyVersion);
  }
  const used = found.grant;
  if (used === undefined) return decision.type === 'deny' ? decision : undefined;
  call.decision = grantedDecision(decision, used);
  if (!call.peek) core.events.grantUsed(call, used);
  return undefined;
}

/** The allow a grant turns `decision` into. */
function grantedDecision(decision: Exclude<Decision, { type: 'allow' }>, used: Grant): Decision {
  const reason = `granted by ${used.id}${used.reason === undefined ? '' : ` (${used.reason})`}`;
  if (decision.type === 'ask') return allowFrom(decision, reason);
  const allow: Decision =
    decision.policyVersion === undefined
      ? { type: 'allow', rules: decision.rules, reason }
      : { type: 'allow', rules: decision.rules, reason, policyVersion: decision.policyVersion };
  return Object.freeze(allow);
}
