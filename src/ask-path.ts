import { applyGrants } from './approval/grant-step.ts';
import type { ApprovalRequestEvent, ApprovalResponseEvent, GrantUsedEvent } from './audit/types.ts';
import type { Call } from './call.ts';
import type { Pipeline, ToolDefinition } from './pipeline.ts';
import { evaluatePolicy } from './policy/evaluate.ts';
import type { Decision } from './types.ts';

// The pipeline's ask path (src/pipeline.ts holds the allow path): what a deny or an ask from the
// engine goes through before it can still run: a grant in scope, the limits, a human's approval,
// and the limits again when the approver edited the arguments.

/**
 * Steps 3b–5 for a deny or an ask: grants, limits, then the approval; the allow path's own steps
 * take over again at the decision record (`Pipeline.commit`).
 */
export async function askPath(
  pipeline: Pipeline,
  definition: ToolDefinition,
  call: Call,
  evaluated: Exclude<Decision, { type: 'allow' }>,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  const policyDecision = evaluated.type;
  // 3b. Grants: a live grant in scope turns a default deny or an ask into allow, never a deny rule.
  let decision = await grantStep(pipeline, call, evaluated, false);
  if (decision.type === 'deny') return pipeline.outcomes.denied(call, decision, policyDecision);

  // 4. Limits.
  const limited = await pipeline.enterLimits(call, decision, signal);
  if (limited !== undefined && 'type' in limited)
    return pipeline.outcomes.denied(call, limited, policyDecision);
  call.lease = limited;

  // 5. Approve (ask only).
  if (decision.type === 'ask') {
    const argsAsked = call.args;
    const approved = await approveStep(pipeline, call, decision, definition, signal);
    if (approved.type === 'deny') return pipeline.outcomes.denied(call, approved, policyDecision);
    decision = approved;
    // Edited arguments: limits are taken again for what will run (a budget counts the new amount).
    if (call.args !== argsAsked) {
      call.lease?.release(false);
      const again = await pipeline.enterLimits(call, decision, signal);
      if (again !== undefined && 'type' in again)
        return pipeline.outcomes.denied(call, again, policyDecision);
      call.lease = again;
    }
  }
  return pipeline.commit(definition, call, decision, policyDecision, signal);
}

/** Step 3b: the grant step (src/approval/grant-step.ts); records a `grant-used` event per use. */
export async function grantStep(
  pipeline: Pipeline,
  call: Call,
  decision: Decision,
  peek: boolean,
): Promise<Decision> {
  const granted = await applyGrants(pipeline.approval.grants, pipeline.request(call), decision, peek);
  if (granted.grant !== undefined && !peek) {
    const event = pipeline.records.event(call, 'grant-used', { grantId: granted.grant.id }) as GrantUsedEvent;
    pipeline.config.audit.record(event);
    pipeline.records.emit('grant-used', event);
  }
  return granted.decision;
}

/** Step 5: the approval step (src/approval/step.ts); returns the effective decision (allow, or a deny). */
async function approveStep(
  pipeline: Pipeline,
  call: Call,
  decision: Extract<Decision, { type: 'ask' }>,
  definition: ToolDefinition,
  signal: AbortSignal | undefined,
): Promise<Decision> {
  const result = await pipeline.approval.approvals.run(
    {
      request: () => pipeline.request(call),
      applyEdit: async (args) => {
        const prepared = await pipeline.prepareArgs(definition, args);
        if (!prepared.ok) return prepared.problem;
        call.args = prepared.args;
        return undefined;
      },
      decide: async () =>
        evaluatePolicy(pipeline.config.policy, pipeline.request(call), {
          timeoutMs: pipeline.config.limits.policyTimeoutMs,
          signal,
        }),
      record: (type, fields) => {
        // Approvers write free text: it is redacted like everything else that is recorded.
        if (typeof fields.reason === 'string')
          fields = { ...fields, reason: pipeline.config.audit.recordedText(fields.reason) };
        const event = pipeline.records.event(call, type, fields) as
          | ApprovalRequestEvent
          | ApprovalResponseEvent;
        pipeline.config.audit.record(event);
        pipeline.records.emit(type, event);
      },
    },
    decision,
    signal,
  );
  if (result.ok) call.approvers = result.approvers;
  return result.decision;
}
