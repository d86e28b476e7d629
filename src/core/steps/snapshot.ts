import { snapshot as freeze } from '../../_internal/snapshot.ts';
import { deny } from '../../policy/evaluate.ts';
import type { Call, StepResult } from '../call.ts';
import type { GuardCore } from '../guard-core.ts';

/**
 * Deep clone and freeze of the arguments (JSON data only, within the size and depth caps): from
 * here on the frozen copy is the only args anyone sees. `INVALID_ARGS`.
 */
export function snapshot(call: Call, core: GuardCore): StepResult {
  const copy = freeze(call.rawArgs, core.snapshotLimits);
  if (!copy.ok) return deny('INVALID_ARGS', copy.problem);
  call.args = copy.value;
  return undefined;
}
