import { deny } from '../../policy/evaluate.ts';
import type { Call, StepResult } from '../call.ts';
import type { GuardCore } from '../guard-core.ts';

/**
 * An `ask` that no approver can answer (the guard has none) denies before the limits, so it uses
 * up no rate-limit hit, and a dry run says so too. `NO_APPROVER`.
 */
export function approver(call: Call, core: GuardCore): StepResult {
  const decision = call.decision!;
  if (decision.type !== 'ask' || core.approvals !== undefined) return undefined;
  return deny(
    'NO_APPROVER',
    `approval required (${decision.reason}) but no approver is configured`,
    decision.rules,
  );
}
