import { performance } from 'node:perf_hooks';
import { toolNameProblem } from './_internal/names.ts';
import { grantStep } from './ask-path.ts';
import { Call } from './call.ts';
import { scopeStorage } from './context.ts';
import { enterLimits, limitsCall } from './limits/step.ts';
import { type Pipeline, type ToolDefinition, unsupportedObligation } from './pipeline.ts';
import { deny, evaluatePolicy } from './policy/evaluate.ts';
import type { Decision, ToolContext } from './types.ts';

/**
 * `tg.check`: a dry run of steps 1–4 for a tool by name. The same context, snapshot, validation,
 * policy and grants as a call, and the limits in peek mode: nothing is consumed, recorded or run.
 */
export async function dryRun(
  pipeline: Pipeline,
  tool: string,
  definition: ToolDefinition | undefined,
  rawArgs: unknown,
  context: ToolContext | undefined,
): Promise<Decision> {
  const nameProblem = toolNameProblem(tool);
  if (nameProblem !== undefined) return deny('UNKNOWN_TOOL', nameProblem);
  if (definition === undefined)
    return deny('UNKNOWN_TOOL', `no tool named ${JSON.stringify(tool)} is guarded here`);
  const scope = scopeStorage.getStore();
  const resolved = pipeline.resolveContext(scope, context);
  if (typeof resolved === 'string') return deny('INVALID_CONTEXT', resolved);
  const depth = scope?.callId === undefined ? 0 : scope.depth;
  if (depth > pipeline.config.limits.maxCallDepth) {
    return deny(
      'CALL_DEPTH_EXCEEDED',
      `guarded calls are nested deeper than ${pipeline.config.limits.maxCallDepth}`,
    );
  }
  const prepared = await pipeline.prepareArgs(definition, rawArgs);
  if (!prepared.ok) return deny('INVALID_ARGS', prepared.problem);
  const call = new Call(
    pipeline.config.generateId(),
    scope?.callId,
    depth,
    definition.info,
    undefined,
    resolved,
    performance.now(),
  );
  call.args = prepared.args;
  let decision = await evaluatePolicy(pipeline.config.policy, pipeline.request(call), {
    timeoutMs: pipeline.config.limits.policyTimeoutMs,
  });
  decision = await grantStep(pipeline, call, decision, true);
  if (decision.type !== 'deny') {
    const problem = unsupportedObligation(decision);
    if (problem !== undefined) return deny('POLICY_ERROR', problem, decision.rules);
    // Limits in peek mode: the same checks as a call, consuming nothing.
    const limited = await enterLimits(
      pipeline.limitSettings,
      pipeline.request(call),
      decision,
      limitsCall(decision, pipeline.config.limits, undefined, true, true),
    );
    if (limited !== undefined && 'type' in limited) return limited;
  }
  return decision;
}
