import type { ApprovalCall } from '../../approval/approval-flow.ts';
import { EDIT_CHANGED, sameJson } from '../../approval/input-schema.ts';
import { checkAgain } from '../../limits/admission.ts';
import type { Decision } from '../../types.ts';
import { type Call, requestOf, type StepResult } from '../call.ts';
import type { GuardCore } from '../guard-core.ts';
import { enforceable, evaluate } from './decide.ts';
import { limits } from './limits.ts';
import { redact } from './redact.ts';
import { snapshot } from './snapshot.ts';
import { validate } from './validate.ts';
import { verifyAgain } from './verify.ts';

/**
 * Only for an `ask`: the approver (src/approval/approval-flow.ts), bound to the args hash, with
 * its timeout and the caller's signal; quorum, separation of duties, edit then approve (the edit
 * goes through the snapshot, validate, decide and redact steps again, and the limits are taken
 * again for what will run). `APPROVAL_DENIED`, `APPROVAL_TIMEOUT`, `APPROVAL_INVALID`,
 * `APPROVAL_MISMATCH`, `APPROVAL_ERROR`, `APPROVAL_RATE_LIMITED`, `CANCELLED`. After the wait,
 * at the time the call would run, the policy decides again (a deny that came up meanwhile wins;
 * an ask stands approved), the agent credential is checked again (src/core/steps/verify.ts) and
 * so is the kill switch, in a store operation that also renews the call's concurrency slots.
 */
export function approve(call: Call, core: GuardCore): StepResult | Promise<StepResult> {
  const decision = call.decision!;
  return decision.type === 'ask' ? askApprover(call, core, decision) : undefined;
}

async function askApprover(
  call: Call,
  core: GuardCore,
  decision: Extract<Decision, { type: 'ask' }>,
): Promise<StepResult> {
  // The approver step let an ask through only with an approver.
  const flow = core.approvals!;
  const argsAsked = call.args;
  const result = await flow.run(approvalCall(call, core), decision, call.signal);
  if (!result.ok) return result.decision;
  call.approvers = result.approvers;
  call.decision = result.decision;
  // A credential revoked, expired or suspended while a human decided does not run.
  const refused = await verifyAgain(call, core);
  if (refused !== undefined) return refused;
  // Nor does a call whose tool, agent, principal or session was suspended meanwhile (the edited
  // args' admission below checks that itself).
  if (call.args === argsAsked) return checkAgain(core.limits, requestOf(call, core.now), call, call.lease);
  // Edited arguments are recorded too, and what will run is admitted again (a budget counts the
  // new amount); the limits of the asked args are given back first.
  const unrecordable = redact(call, core);
  if (unrecordable !== undefined) return unrecordable;
  call.lease?.release('not-run');
  call.lease = undefined;
  return limits(call, core);
}

/** What the approval flow may do with the call: read it, edit its args, decide again, record. */
function approvalCall(call: Call, core: GuardCore): ApprovalCall {
  return {
    request: () => requestOf(call, core.now),
    applyEdit: async (args) => {
      const asked = call.args;
      const askedRaw = call.rawArgs;
      call.rawArgs = args;
      const stop = snapshot(call, core) ?? (await validate(call, core));
      // G9: what runs is what was approved. A schema that transforms (dollars into cents) would run
      // something else, sync or async: the edit is refused and the call keeps the asked args.
      const problem = stop?.reason ?? (sameJson(call.args, args) ? undefined : EDIT_CHANGED);
      if (problem === undefined) return undefined;
      call.args = asked;
      call.rawArgs = askedRaw;
      return problem;
    },
    decide: async () => {
      // At the time the call would run, not when it was asked: the request is built anew.
      call.request = undefined;
      return enforceable(await evaluate(call, core), core);
    },
    recordRequest: (fields) => core.events.approvalRequest(call, fields),
    recordResponse: (fields) => core.events.approvalResponse(call, fields),
  };
}
