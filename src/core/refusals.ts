import type { SnapshotResult } from '../_internal/snapshot.ts';
import { deny, withFailed } from '../policy/evaluate.ts';
import type { DenyDecision, FailedCondition, JsonObject } from '../types.ts';

// Denials of the steps before the policy (`INVALID_CONTEXT` of the context and verify steps,
// `INVALID_ARGS` of the snapshot and validate steps), with the failed condition named as a rule's
// would be: the path, what was expected there, what is wrong with it.

/** What the snapshot step expects of the arguments. */
export const PLAIN_JSON = 'JSON data within the size and depth limits';
/** What the validate step expects of the input schema's output. */
export const SCHEMA_OUTPUT = "the input schema's output as JSON data, keeping every key it was given";

/** The denial of a context the guard refuses (malformed, widened, or not the credential's). */
export function invalidContext(problem: string): DenyDecision {
  return withFailed(deny('INVALID_CONTEXT', problem), [
    { path: 'context', expected: 'a context the guard accepts', problem: `is refused: ${problem}` },
  ]);
}

/** The denial of call options the guard cannot use (unreadable, or a `signal` that is none). */
export function invalidCallOptions(refusal: {
  readonly path: string;
  readonly problem: string;
}): DenyDecision {
  return withFailed(deny('INVALID_CONTEXT', `call options are refused: ${refusal.path} ${refusal.problem}`), [
    {
      path: refusal.path,
      expected: 'call options the guard can read (CallOptions)',
      problem: refusal.problem,
    },
  ]);
}

/** The denial of arguments a snapshot refused, naming where and what. */
export function refusedArgs(
  refusal: Extract<SnapshotResult<JsonObject>, { ok: false }>,
  expected: string,
): DenyDecision {
  const failed: FailedCondition =
    refusal.at === undefined
      ? { path: 'args', expected, problem: `are refused: ${refusal.problem}` }
      : { path: `args${refusal.at.path}`, expected, problem: refusal.at.predicate };
  return withFailed(deny('INVALID_ARGS', refusal.problem), [failed]);
}
