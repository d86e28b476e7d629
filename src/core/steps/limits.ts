import { admitCall, type LimitLease } from '../../limits/admission.ts';
import type { Decision, DenyDecision } from '../../types.ts';
import { type Call, requestOf, type StepResult } from '../call.ts';
import { after } from '../driver.ts';
import type { GuardCore } from '../guard-core.ts';

type Admittable = Exclude<Decision, { type: 'deny' }>;

/**
 * Suspensions (the kill switch), loop protection, and the rate, concurrency and budget limits of
 * the matching rules, checked and taken atomically in one store operation (src/limits/). In a dry
 * run they are looked at and never taken. `SUSPENDED`, `RATE_LIMITED`, `CONCURRENCY_LIMITED`,
 * `BUDGET_EXCEEDED`, `STORE_UNAVAILABLE`.
 */
export function limits(call: Call, core: GuardCore): StepResult | Promise<StepResult> {
  // The guard's clock, so the lease renews its slots in the time the store counts in.
  const admitted = admitCall(
    core.limits,
    requestOf(call, core.now),
    call.decision as Admittable,
    call,
    core.now,
  );
  call.admissions += 1;
  return after(admitted, call, core, taken);
}

function taken(call: Call, _core: GuardCore, result: DenyDecision | LimitLease | undefined): StepResult {
  if (result !== undefined && 'type' in result) return result;
  call.lease = result;
  return undefined;
}
