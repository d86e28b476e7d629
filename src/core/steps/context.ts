import { ContextFailure, EMPTY_CONTEXT, mergeContext, scopeStorage, snapshotContext } from '../../context.ts';
import { deny, withFailed } from '../../policy/evaluate.ts';
import type { DeepReadonly, ToolContext } from '../../types.ts';
import type { Call, StepResult } from '../call.ts';
import type { GuardCore } from '../guard-core.ts';
import { invalidCallOptions, invalidContext } from '../refusals.ts';

/**
 * Who is calling, from where: the context of `withContext` narrowed by the per-call context
 * (host-supplied, snapshotted, never widened inside a parent call), the credential presented
 * (taken out of the context for the verify step), the nesting depth, and a caller who already
 * cancelled. `INVALID_CONTEXT`, `CALL_DEPTH_EXCEEDED`, `CANCELLED`.
 */
export function context(call: Call, core: GuardCore): StepResult {
  if (call.optionsProblem !== undefined) return invalidCallOptions(call.optionsProblem);
  const scope = scopeStorage.getStore();
  if (scope?.callId !== undefined) {
    call.parentCallId = scope.callId;
    call.depth = scope.depth;
  }
  const outer = scope?.context ?? EMPTY_CONTEXT;
  call.context = outer;
  call.credential = scope?.credential;
  if (call.perCallContext !== undefined) {
    if (call.perCallContext instanceof ContextFailure) return invalidContext(call.perCallContext.problem);
    const inner = snapshotContext(call.perCallContext);
    if (typeof inner === 'string') return invalidContext(inner);
    // The credential goes to the verify step, never into the context.
    if (inner.credential !== undefined) {
      call.credential = inner.credential;
      call.credentialPerCall = true;
    }
    const merged = onlyCredential(inner) ? outer : mergeContext(outer, inner, scope?.callId !== undefined);
    if (typeof merged === 'string') return invalidContext(merged);
    call.context = merged;
  }
  const maxCallDepth = core.defaults.maxCallDepth;
  if (call.depth > maxCallDepth)
    return withFailed(deny('CALL_DEPTH_EXCEEDED', `guarded calls are nested deeper than ${maxCallDepth}`), [
      { path: 'depth', expected: `at most ${maxCallDepth} (defaults.maxCallDepth)`, actual: call.depth },
    ]);
  if (call.signal?.aborted) return deny('CANCELLED', 'the call was cancelled before it started');
  return undefined;
}

/** A per-call context that only presents a credential leaves the scope's context as it is. */
function onlyCredential(context: DeepReadonly<ToolContext>): boolean {
  for (const key in context) if (key !== 'credential') return false;
  return true;
}
