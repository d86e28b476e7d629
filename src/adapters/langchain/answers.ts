import { randomUUID } from 'node:crypto';
import type { JsonObject } from '../../types.ts';
import { AnswerBook } from '../_shared/answer-book.ts';
import { type ApprovalAnswer, hostAnswer } from '../_shared/answers.ts';
import type { HostApproval } from '../_shared/host-call.ts';

/** Who answered, when a person's decision reached LangGraph without `respondToApproval`. */
const UNKNOWN_APPROVER = 'langchain:user';

/** A person's answer to a toolgate interrupt; `args` edits the call (re-validated and re-evaluated). */
export interface LangChainApprovalAnswer extends ApprovalAnswer {
  /** Edited arguments (approvals only). */
  readonly args?: JsonObject;
}

/** What toolgate adds to its interrupt payload (besides the human-in-the-loop `actionRequests`). */
export interface ToolgateInterruptInfo {
  readonly toolCallId: string;
  /** The toolgate tool name. */
  readonly tool: string;
}

/** A human-in-the-loop decision as toolgate's `respondToApproval` builds it. */
export type ToolgateDecision =
  | { type: 'approve'; toolgateAnswer?: string }
  | { type: 'edit'; editedAction: { name: string; args: JsonObject }; toolgateAnswer?: string }
  | { type: 'reject'; message?: string; toolgateAnswer?: string };

/** The resume value for one interrupt: `new Command({ resume })` (or `{ [interrupt.id]: resume }`). */
export interface ToolgateResume {
  decisions: ToolgateDecision[];
}

const book = new AnswerBook<{ readonly toolCallId: string; readonly approval: HostApproval }>();

/**
 * Builds the resume value for a toolgate interrupt from a person's answer, and keeps who gave it,
 * so the guard records the answer (approval, edit or rejection) with that approver when the run
 * resumes in this process. This is how a person's answer reaches the middleware: a resume value
 * built by hand is still recorded, as `langchain:user`, and reported as a `warning`
 * (`ANSWER_BYPASSED`).
 *
 * @example
 * const [pending] = first.__interrupt__ ?? [];
 * const resume = respondToApproval(pending, { approved: true, approver: 'user:ops-alice' });
 * await agent.invoke(new Command({ resume }), config);
 */
export function respondToApproval(
  interrupt: { readonly value?: unknown } | undefined,
  answer: LangChainApprovalAnswer,
): ToolgateResume {
  const approval = hostAnswer(answer, 'respondToApproval', answer?.args);
  if (approval.args !== undefined && !approval.approved)
    throw new TypeError('respondToApproval: args edit an approval; a rejection takes none');
  const value = interrupt?.value as
    | { actionRequests?: readonly { name?: unknown }[]; toolgate?: Partial<ToolgateInterruptInfo> }
    | undefined;
  const toolCallId = value?.toolgate?.toolCallId;
  let key: string | undefined;
  if (typeof toolCallId === 'string') {
    key = randomUUID();
    book.set(key, { toolCallId, approval });
  }
  const marker = key === undefined ? {} : { toolgateAnswer: key };
  let decision: ToolgateDecision;
  if (!approval.approved) {
    decision = {
      type: 'reject',
      ...(approval.reason === undefined ? {} : { message: approval.reason }),
      ...marker,
    };
  } else if (approval.args !== undefined) {
    const name = value?.actionRequests?.[0]?.name;
    decision = {
      type: 'edit',
      editedAction: { name: typeof name === 'string' ? name : '', args: approval.args },
      ...marker,
    };
  } else {
    decision = { type: 'approve', ...marker };
  }
  return { decisions: [decision] };
}

/**
 * Reads the resume value of toolgate's interrupt: the answer booked by `respondToApproval` (with
 * who gave it), else the human-in-the-loop decision as given (approver unknown, reported).
 * Anything unexpected is a rejection (fail closed).
 */
export function parseResume(value: unknown, toolCallId: string): HostApproval {
  const decisions = (value as { decisions?: unknown } | null)?.decisions;
  const decision = (Array.isArray(decisions) ? decisions[0] : value) as
    | Record<string, unknown>
    | null
    | undefined;
  const key = decision?.toolgateAnswer;
  const booked = typeof key === 'string' ? book.take(key) : undefined;
  if (booked !== undefined && booked.toolCallId === toolCallId) return booked.approval;
  const approver = UNKNOWN_APPROVER;
  const bypassed = {
    code: 'ANSWER_BYPASSED',
    message:
      "a person's decision for a toolgate interrupt was built without respondToApproval(), so toolgate does not know who answered: it is recorded as langchain:user",
  };
  const type = decision?.type;
  if (type === 'approve') return { approved: true, approver, bypassed };
  if (type === 'edit') {
    const args = (decision?.editedAction as { args?: unknown } | undefined)?.args;
    if (typeof args === 'object' && args !== null && !Array.isArray(args))
      return { approved: true, approver, args: args as JsonObject, bypassed };
    return { approved: false, approver, reason: 'the edit carried no arguments', bypassed };
  }
  if (type === 'reject') {
    const message = decision?.message;
    return {
      approved: false,
      approver,
      reason: typeof message === 'string' ? message : 'the user rejected the call',
      bypassed,
    };
  }
  return { approved: false, approver, reason: 'the resume value is not an approve, edit or reject decision' };
}
