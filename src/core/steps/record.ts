import type { DecisionEvent } from '../../audit/types.ts';
import type { Call, StepResult } from '../call.ts';
import { Interruption } from '../call.ts';
import type { GuardCore } from '../guard-core.ts';

/**
 * The call's one decision record, before the tool runs. In fail-closed audit mode the call waits
 * for a durable write, and a failed one stops it (`AUDIT_UNAVAILABLE`, the tool never ran); in
 * best-effort mode the sinks' writes are not awaited.
 */
export function record(call: Call, core: GuardCore): StepResult | Promise<StepResult> {
  const event = core.events.decision(call, call.decision!);
  if (core.audit.mode === 'fail-closed') return recordDurably(core, event);
  core.audit.record(event);
  core.events.emit('decision', event);
  return undefined;
}

async function recordDurably(core: GuardCore, event: DecisionEvent): Promise<StepResult> {
  if (!(await core.audit.recordDurable(event)))
    return new Interruption('AUDIT_UNAVAILABLE', 'the audit trail could not record the decision', 'not-run');
  core.events.emit('decision', event);
  return undefined;
}
