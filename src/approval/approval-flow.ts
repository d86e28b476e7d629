import { performance } from 'node:perf_hooks';
import { describeError } from '../_internal/describe-error.ts';
import { callSafely, type SafeResult } from '../_internal/fail-closed.ts';
import { identityKey } from '../_internal/names.ts';
import type { ApprovalRequestEvent, ApprovalResponseEvent } from '../audit/types.ts';
import { deny } from '../policy/evaluate.ts';
import type { Decision, DenyDecision, JsonObject, ToolRequest } from '../types.ts';
import { type ApproverView, type ShownCall, shownToApprover } from './approver-view.ts';
import { FloodControl, type FloodLimits } from './flood.ts';
import { grantApprovalOf } from './grant-approval.ts';
import type { GrantApproval } from './grant-types.ts';
import type { GrantManager } from './grants.ts';
import { EDIT_CHANGED, schemaOutcome } from './input-schema.ts';
import { approverName, buildApprovalRequest, readAnswer, responseProblem } from './messages.ts';
import { rememberedGrant, rememberProblem } from './remember.ts';
import { approverProblem, type NormalizedRequirements, normalizeRequirements } from './requirements.ts';
import type { ApprovalProvider, ApprovalRequest, ApprovalResponse } from './types.ts';

type AskDecision = Extract<Decision, { type: 'ask' }>;
type AllowDecision = Extract<Decision, { type: 'allow' }>;
type Approved = Extract<ApprovalResponse, { approved: true }>;

/** The fields of an `approval-request` record that the approval flow supplies. */
export type ApprovalRequestFields = Pick<
  ApprovalRequestEvent,
  'requestId' | 'provider' | 'reason' | 'rules' | 'expiresAt'
>;

/** The fields of an `approval-response` record that the approval flow supplies. */
export type ApprovalResponseFields = Pick<ApprovalResponseEvent, 'requestId'> &
  Partial<Pick<ApprovalResponseEvent, 'approved' | 'approver' | 'code' | 'reason' | 'edited' | 'late'>>;

/** What the approve step (src/core/steps/approve.ts) lends the approval flow for one call. */
export interface ApprovalCall {
  /** The call as it stands (its args change after an accepted edit). */
  request(): ToolRequest;
  /** Snapshots and validates edited args; on success they become the call's args. Returns a problem. */
  applyEdit(args: unknown): Promise<string | undefined>;
  /** Decides again (the decide step's own check), for the call's current args. */
  decide(): Promise<Decision>;
  /** Records (and emits) the call's `approval-request` event. */
  recordRequest(fields: ApprovalRequestFields): void;
  /** Records (and emits) an `approval-response` event of the call. */
  recordResponse(fields: ApprovalResponseFields): void;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/** The result of the approval step. */
export type ApprovalResult =
  | { readonly ok: true; readonly decision: AllowDecision; readonly approvers: readonly string[] }
  | { readonly ok: false; readonly decision: DenyDecision };

/** Settings of the approval flow (one per guard with an approver). */
export interface ApprovalFlowOptions {
  readonly approver: ApprovalProvider;
  readonly now: () => number;
  readonly generateId: () => string;
  readonly defaultTimeoutMs: number;
  readonly flood: FloodLimits;
  /** Where remembered approvals become grants. */
  readonly grants?: GrantManager;
  /** The guard's redaction of what an approver sees (args, attributes, reasons). */
  readonly show?: ApproverView;
  readonly onError: (source: string, error: unknown, callId?: string) => void;
}

/**
 * The approval of an `ask` (the approve step of the pipeline, src/core/steps/approve.ts): asks the
 * approver (as many rounds as the quorum needs), validates every answer, applies edits
 * (re-validated and re-decided; deny still wins), turns remembered approvals into grants, and
 * records each request and answer. Every failure is a deny with a stable code; nothing here can
 * allow a call the human did not approve.
 */
export class ApprovalFlow {
  private readonly flood: FloodControl;

  constructor(private readonly options: ApprovalFlowOptions) {
    this.flood = new FloodControl(options.flood, options.now);
  }

  async run(
    call: ApprovalCall,
    decision: AskDecision,
    signal: AbortSignal | undefined,
  ): Promise<ApprovalResult> {
    const { approver } = this.options;
    const requirements = normalizeRequirements(decision.approval, this.options.defaultTimeoutMs);
    if (typeof requirements === 'string') return denied(deny('POLICY_ERROR', requirements, decision.rules));
    const request = call.request();
    const ticket = this.flood.acquire(request.context.principal);
    if (!ticket.ok) {
      return denied(
        deny('APPROVAL_RATE_LIMITED', `approval not requested: ${ticket.reason}`, decision.rules),
      );
    }
    try {
      return await this.collect(call, approver, decision, requirements, request, signal);
    } finally {
      ticket.release();
    }
  }

  private async collect(
    call: ApprovalCall,
    approver: ApprovalProvider,
    decision: AskDecision,
    requirements: NormalizedRequirements,
    request: ToolRequest,
    signal: AbortSignal | undefined,
  ): Promise<ApprovalResult> {
    const rules = decision.rules;
    let shown: ShownCall;
    try {
      shown = shownToApprover(request, decision.reason, this.options.show);
    } catch (error) {
      return denied(
        deny(
          'APPROVAL_ERROR',
          `the call could not be prepared for the approver: ${describeError(error)}`,
          rules,
        ),
      );
    }
    const expiresAt = request.now + requirements.timeoutMs;
    const deadline = performance.now() + requirements.timeoutMs;
    const base = buildApprovalRequest(this.options.generateId(), request, decision, expiresAt, shown);
    const name = approverName(approver);
    call.recordRequest({
      requestId: base.id,
      provider: name,
      reason: decision.reason,
      rules,
      expiresAt,
    });

    const approvals: Approved[] = [];
    const names: string[] = [];
    while (approvals.length < requirements.quorum) {
      const asked: ApprovalRequest =
        names.length === 0 ? base : Object.freeze({ ...base, approvedBy: Object.freeze([...names]) });
      // A late or second answer is recorded and otherwise ignored; recording it never fails the provider.
      const onLate = (value: unknown) => {
        try {
          this.recordLate(call, base.id, value);
        } catch {
          // Nothing to tell the provider: the answer is ignored either way.
        }
      };
      const outcome = await callSafely(
        (control) => approver.request(asked, { signal: control.signal, onLateResponse: onLate }),
        { timeoutMs: Math.max(0, deadline - performance.now()), signal, onLate },
      );
      const verdict = this.judge(outcome, name, base, requirements, request, names);
      if (!verdict.ok) {
        const fields: Writable<ApprovalResponseFields> = {
          requestId: base.id,
          code: verdict.decision.code,
          reason: verdict.decision.reason,
        };
        if (verdict.response !== undefined) {
          fields.approved = verdict.response.approved;
          fields.approver = verdict.response.approver;
        }
        call.recordResponse(fields);
        return denied(verdict.decision);
      }
      approvals.push(verdict.response);
      names.push(identityKey(verdict.response.approver));
      const fields: Writable<ApprovalResponseFields> = {
        requestId: base.id,
        approved: true,
        approver: verdict.response.approver,
      };
      if (verdict.response.args !== undefined) {
        // Applied before recording, so the response event carries the edited args' hash.
        const problem = await this.edit(call, verdict.response.args);
        if (problem !== undefined) {
          const refused = deny('APPROVAL_INVALID', `edited arguments are invalid: ${problem}`, rules);
          call.recordResponse({ ...fields, code: refused.code, reason: refused.reason });
          return denied(refused);
        }
        fields.edited = true;
      }
      call.recordResponse(fields);
    }

    const last = approvals[approvals.length - 1]!;
    // Decided again at the time the call would run: a deny that came up while a human decided (a
    // schedule window closed, a rule changed) wins, edited or not.
    const again = await this.redecide(
      call,
      decision,
      requirements,
      names,
      request.context.principal,
      last.args !== undefined,
    );
    if (!again.ok) return again;
    const result = again.decision;
    if (last.remember !== undefined && approvals.length === 1) {
      await this.remember(call, last, decision, grantApprovalOf(names, requirements));
    }
    return { ok: true, decision: result, approvers: Object.freeze([...names]) };
  }

  /** Validates one round's outcome. */
  private judge(
    outcome: SafeResult<ApprovalResponse>,
    approver: string,
    request: ApprovalRequest,
    requirements: NormalizedRequirements,
    call: ToolRequest,
    already: readonly string[],
  ): { ok: true; response: Approved } | { ok: false; decision: DenyDecision; response?: ApprovalResponse } {
    const rules = request.rules;
    if (!outcome.ok) {
      switch (outcome.reason) {
        case 'timeout':
          return {
            ok: false,
            decision: deny('APPROVAL_TIMEOUT', `no answer from ${approver} in time`, rules),
          };
        case 'aborted':
          return {
            ok: false,
            decision: deny('CANCELLED', 'the call was cancelled while waiting for approval', rules),
          };
        default:
          return {
            ok: false,
            decision: deny(
              'APPROVAL_ERROR',
              `approver ${approver} failed: ${describeError(outcome.error)}`,
              rules,
            ),
          };
      }
    }
    // Read once, as data: no getter or Proxy trap of the answer runs, and what is checked below is
    // what is used (an answer whose fields changed between reads could pass as another).
    const value = readAnswer(outcome.value);
    const problem = typeof value === 'string' ? value : (responseProblem(value) ?? rememberProblem(value));
    if (problem !== undefined) {
      return {
        ok: false,
        decision: deny('APPROVAL_INVALID', `approver ${approver} answered badly: ${problem}`, rules),
      };
    }
    const response = value as ApprovalResponse;
    if (response.requestId !== request.id) {
      return {
        ok: false,
        decision: deny('APPROVAL_MISMATCH', 'the answer was for another approval request', rules),
        response,
      };
    }
    if (!response.approved) {
      return {
        ok: false,
        decision: deny('APPROVAL_DENIED', `denied by ${response.approver}: ${response.reason}`, rules),
        response,
      };
    }
    const invalid = (reason: string) => ({
      ok: false as const,
      decision: deny('APPROVAL_INVALID', reason, rules),
      response,
    });
    if (this.options.now() > request.expiresAt)
      return {
        ok: false,
        decision: deny('APPROVAL_TIMEOUT', 'the approval arrived after the request expired', rules),
        response,
      };
    const who = approverProblem(requirements, response.approver, call.context.principal);
    if (who !== undefined) return invalid(who);
    if (already.includes(identityKey(response.approver)))
      return invalid(`${response.approver} has already approved; the quorum needs distinct approvers`);
    if (requirements.quorum > 1 && response.args !== undefined)
      return invalid('arguments cannot be edited when approval needs a quorum');
    return { ok: true, response };
  }

  /**
   * G9 for edits: the tool runs with exactly the args the approver approved. The edit goes through
   * the tool's schema (src/core/steps/validate.ts); a schema that transforms (dollars into cents)
   * would run something else than what was approved, so the edit is accepted only when the schema
   * gives it back unchanged (canonical JSON). Known to change it: refused before it is applied, so
   * the call's args stay the asked ones. Checked again on what was applied, which is what runs.
   */
  private async edit(call: ApprovalCall, edited: JsonObject): Promise<string | undefined> {
    if (schemaOutcome(call.request().tool, edited) === 'changed') return EDIT_CHANGED;
    // Applied, the edit is checked again on what would run (an async schema is only known then);
    // refused, the call keeps the asked args.
    return call.applyEdit(edited);
  }

  /**
   * After the approval, decide again (at the time the call would run); deny wins. Without an edit
   * the approval stands (an ask again needs no second one) and the call keeps the approved
   * decision. Edit then approve: the decision on the edited args, and the approvals must still
   * suffice for it.
   */
  private async redecide(
    call: ApprovalCall,
    asked: AskDecision,
    requirements: NormalizedRequirements,
    approvers: readonly string[],
    principal: string | undefined,
    edited: boolean,
  ): Promise<{ ok: true; decision: AllowDecision } | { ok: false; decision: DenyDecision }> {
    const again = await call.decide();
    if (again.type === 'deny') return denied(again);
    if (!edited) return { ok: true, decision: allowFrom(asked, asked.reason) };
    if (again.type === 'ask') {
      // The human saw and approved exactly these arguments; the approval must meet the new ask too.
      const next = normalizeRequirements(again.approval, requirements.timeoutMs);
      if (typeof next === 'string') return denied(deny('POLICY_ERROR', next, again.rules));
      if (next.quorum > approvers.length)
        return denied(deny('APPROVAL_INVALID', 'the edited arguments need more approvers', again.rules));
      for (const name of approvers) {
        const who = approverProblem(next, name, principal);
        if (who !== undefined)
          return denied(deny('APPROVAL_INVALID', `edited arguments: ${who}`, again.rules));
      }
    }
    return { ok: true, decision: allowFrom(again, again.reason ?? asked.reason) };
  }

  /** A remembered approval becomes a grant (src/approval/remember.ts); losing it never widens access. */
  private async remember(
    call: ApprovalCall,
    response: Approved,
    decision: AskDecision,
    approval: GrantApproval,
  ): Promise<void> {
    const grants = this.options.grants;
    if (grants === undefined) return;
    const request = call.request();
    const { grant, when } = rememberedGrant(request, response, decision.reason, approval);
    try {
      await grants.remember(grant, when);
    } catch (error) {
      // The call was approved; only the grant is lost, which never widens access.
      this.options.onError('grants', error, request.callId);
    }
  }

  private recordLate(call: ApprovalCall, requestId: string, value: unknown): void {
    const fields: Writable<ApprovalResponseFields> = {
      requestId,
      late: true,
      reason: 'the answer arrived after the request was settled and was ignored',
    };
    const answer = readAnswer(value);
    if (typeof answer !== 'string' && responseProblem(answer) === undefined) {
      const response = answer as ApprovalResponse;
      fields.approved = response.approved;
      fields.approver = response.approver;
    }
    call.recordResponse(fields);
  }
}

function denied(decision: DenyDecision): { ok: false; decision: DenyDecision } {
  return { ok: false, decision };
}

/** The allow an approval (or a grant) turns an ask into: same rules, obligations and limits. */
export function allowFrom(decision: Exclude<Decision, { type: 'deny' }>, reason: string): AllowDecision {
  const allow: { -readonly [K in keyof AllowDecision]: AllowDecision[K] } = {
    type: 'allow',
    rules: decision.rules,
    reason,
  };
  if (decision.obligations !== undefined) allow.obligations = decision.obligations;
  if (decision.limits !== undefined) allow.limits = decision.limits;
  if (decision.policyVersion !== undefined) allow.policyVersion = decision.policyVersion;
  return Object.freeze(allow);
}
