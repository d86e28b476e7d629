import { snapshot as freeze } from '../../_internal/snapshot.ts';
import type { Call, StepResult } from '../call.ts';
import type { GuardCore } from '../guard-core.ts';
import { PLAIN_JSON, refusedArgs } from '../refusals.ts';

/**
 * Deep clone and freeze of the arguments (JSON data only, within the size and depth caps): from
 * here on the frozen copy is the only args anyone sees. `INVALID_ARGS`.
 */
export function snapshot(call: Call, core: GuardCore): StepResult {
  const copy = freeze(call.rawArgs, core.snapshotLimits);
  if (!copy.ok) return refusedArgs(copy, PLAIN_JSON);
  call.args = copy.value;
  return undefined;
}
