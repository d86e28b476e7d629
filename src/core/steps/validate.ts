import { callSafely, type SafeResult } from '../../_internal/fail-closed.ts';
import { sameData, snapshot } from '../../_internal/snapshot.ts';
import { type ValidationResult, validateArgs } from '../../_internal/validate.ts';
import { deny, withFailed } from '../../policy/evaluate.ts';
import type { Call, StepResult } from '../call.ts';
import { after } from '../driver.ts';
import type { GuardCore } from '../guard-core.ts';
import { refusedArgs, SCHEMA_OUTPUT } from '../refusals.ts';

/**
 * The tool's input schema (any Standard Schema) on the frozen args; unknown keys are refused. When
 * the schema's output differs from its input, that output is what runs, frozen in turn.
 * `INVALID_ARGS` (or the code of a refusing schema: the MCP gate's unlisted tools, `UNKNOWN_TOOL`);
 * `CANCELLED` when the caller aborts while an async schema decides.
 */
export function validate(call: Call, core: GuardCore): StepResult | Promise<StepResult> {
  const schema = call.definition.input;
  if (schema === undefined) return undefined;
  const result = validateArgs(schema, call.args);
  if (!(result instanceof Promise)) return validated(call, core, result);
  // An async schema is held to the policy's timeout and the caller's signal, as the engine is:
  // one that never answers denies instead of holding the call forever.
  const waited = callSafely(() => result, { timeoutMs: core.defaults.policyTimeoutMs, signal: call.signal });
  return after(waited, call, core, settled);
}

function settled(call: Call, core: GuardCore, outcome: SafeResult<ValidationResult>): StepResult {
  if (outcome.ok) return validated(call, core, outcome.value);
  call.args = undefined;
  if (outcome.reason === 'aborted')
    return deny('CANCELLED', 'the call was cancelled while its arguments were validated');
  return deny(
    'INVALID_ARGS',
    outcome.reason === 'timeout'
      ? `the input schema did not answer within ${core.defaults.policyTimeoutMs} ms (defaults.policyTimeout)`
      : 'the input schema failed',
  );
}

function validated(call: Call, core: GuardCore, result: ValidationResult): StepResult {
  const given = call.args!;
  // Refused args are not the call's: its record carries none, as for a failed snapshot.
  call.args = undefined;
  if (!result.ok) return withFailed(deny(result.code ?? 'INVALID_ARGS', result.problem), result.failed ?? []);
  // Usually the schema returns the same data in a new object: keep the frozen snapshot then.
  if (sameAsGiven(result.value, given)) {
    call.args = given;
    return undefined;
  }
  // The schema's output is what runs; it must be JSON data and keep every key it was given.
  const copy = snapshot(result.value, core.snapshotLimits, given);
  if (!copy.ok) return refusedArgs(copy, SCHEMA_OUTPUT);
  call.args = copy.value;
  return undefined;
}

/**
 * Whether the schema's output is the snapshot it validated. Reading the output may run the
 * schema's own code (a getter, a Proxy trap): a throw means "not the same", and the full snapshot
 * that follows refuses what threw, as a denial with its record, never as an error at the caller.
 */
function sameAsGiven(output: unknown, given: unknown): boolean {
  try {
    return sameData(output, given);
  } catch {
    return false;
  }
}
