import type { ModelMessage, ToolApprovalResponse, ToolExecutionOptions, ToolSet } from 'ai';
import { ConfigurationError } from '../../errors.ts';
import type { CallOptions } from '../../guard-types.ts';
import { type ApprovalAnswer, hostAnswer } from '../_shared/answers.ts';
import { denialMessage, detailOf } from '../_shared/denials.ts';
import type { HostApproval, MissingAnswer } from '../_shared/host-call.ts';
import {
  answerBook,
  callContext,
  evaluatedCalls,
  type GuardedToolInfo,
  guardedTools,
  ownValue,
} from './shared.ts';

/** Who approved, when a person's answer reached the AI SDK without `respondToApproval`. */
const UNKNOWN_APPROVER = 'ai-sdk:user';

/** The approval request the AI SDK raised (a `tool-approval-request` part of `result.content`). */
export interface AiSdkApprovalRequest {
  readonly approvalId: string;
  readonly toolCall: { readonly toolName: string; readonly toolCallId: string; readonly input: unknown };
}

/** Options of `respondToApproval` and `recordApprovalResponses`. */
export interface RespondOptions {
  /** The `toolsContext` of the `generateText` / `streamText` call, for tools whose `context` option reads it. */
  toolsContext?: Record<string, unknown>;
}

/**
 * Builds the AI SDK's `tool-approval-response` for a person's answer, and records the answer with
 * who gave it. A rejection is recorded now, through the guard (`approval-request`,
 * `approval-response`, then the `decision` with `APPROVAL_DENIED`), and the model reads it as
 * `execution-denied`; an approval is recorded when the SDK runs the call in the next
 * `generateText` / `streamText` call of this process. This is how a person's answer reaches the
 * AI SDK: one given past it is reported as a `warning` (`ANSWER_BYPASSED`) and recorded without
 * who answered (or, for a rejection the SDK continues without calling toolgate, not at all).
 * Call it in the same `tg.withContext(…)` scope as the run.
 *
 * @example
 * const request = result.content.find((part) => part.type === 'tool-approval-request');
 * const response = await respondToApproval(tools, request, { approved: false, approver: 'user:ops-alice', reason: 'too much' });
 * messages.push(...result.responseMessages, { role: 'tool', content: [response] });
 */
export async function respondToApproval(
  tools: ToolSet,
  request: AiSdkApprovalRequest,
  answer: ApprovalAnswer,
  options: RespondOptions = {},
): Promise<ToolApprovalResponse> {
  const approval = hostAnswer(answer, 'respondToApproval');
  if (typeof request?.approvalId !== 'string' || typeof request.toolCall?.toolCallId !== 'string')
    throw new TypeError('respondToApproval: pass the tool-approval-request part the AI SDK returned');
  // An automatic request was answered by toolApproval(tg) (a denial, decided and recorded): a
  // second answer would record the call twice.
  if ((request as { isAutomatic?: unknown }).isAutomatic === true)
    throw new ConfigurationError(
      'respondToApproval: this tool-approval-request is automatic (isAutomatic: true): toolApproval(tg) already answered it, and the SDK carries its response; answer only the requests a person must',
    );
  const response: ToolApprovalResponse = {
    type: 'tool-approval-response',
    approvalId: request.approvalId,
    approved: approval.approved,
  };
  if (approval.reason !== undefined) response.reason = approval.reason;
  const info = guardedInfo(tools, request.toolCall.toolName);
  // A tool guardTools did not wrap: toolgate has nothing to record.
  if (info === undefined) return response;
  const reason = await settle(info, request.approvalId, request.toolCall, approval, options.toolsContext);
  if (reason !== undefined) response.reason = reason;
  return response;
}

/**
 * Records the answers a client sent back in `messages` (e.g. `useChat`'s `addToolApprovalResponse`,
 * after `convertToModelMessages`), with who gave them as your server knows it: call it before
 * `streamText` / `generateText` continues with these messages. Answers already given through
 * `respondToApproval` are skipped.
 *
 * @example
 * const messages = await convertToModelMessages(uiMessages);
 * await recordApprovalResponses(tools, messages, { approver: `user:${session.userId}` });
 * return streamText({ model, tools, messages, toolApproval: toolApproval(tg) }).toUIMessageStreamResponse();
 */
export async function recordApprovalResponses(
  tools: ToolSet,
  messages: readonly ModelMessage[],
  options: RespondOptions & { approver: string },
): Promise<void> {
  hostAnswer({ approved: true, approver: options?.approver }, 'recordApprovalResponses');
  for (const pending of pendingAnswers(messages)) {
    const info = guardedInfo(tools, pending.toolCall.toolName);
    if (info === undefined || answerBook(info.tg).get(pending.approvalId) !== undefined) continue;
    const approval: HostApproval = { approved: pending.approved, approver: options.approver };
    await settle(
      info,
      pending.approvalId,
      pending.toolCall,
      pending.reason === undefined ? approval : { ...approval, reason: pending.reason },
      options.toolsContext,
    );
  }
}

/**
 * Records the rejections among `messages`' pending answers that did not go through the helpers
 * (identity unknown), and reports the bypass. Run by `toolApproval(tg)` whenever the SDK calls it.
 */
export async function recordBypassedAnswers(
  tools: unknown,
  messages: readonly ModelMessage[],
  toolsContext: unknown,
): Promise<void> {
  for (const pending of pendingAnswers(messages)) {
    if (pending.approved) continue; // an approval is recorded by the guarded execute
    const info = guardedInfo(tools, pending.toolCall.toolName);
    if (info === undefined || answerBook(info.tg).get(pending.approvalId) !== undefined) continue;
    const approval: HostApproval = {
      approved: false,
      approver: UNKNOWN_APPROVER,
      bypassed: bypassWarning(info),
    };
    await settle(
      info,
      pending.approvalId,
      pending.toolCall,
      pending.reason === undefined ? approval : { ...approval, reason: pending.reason },
      toolsContext as Record<string, unknown> | undefined,
    );
  }
}

/**
 * The person's answer for a call the SDK is executing: only when `toolApproval(tg)` asked for it in
 * this same `generateText` / `streamText` call (so the SDK validated the answer, and its signature
 * with `experimental_toolApprovalSecret`); never an answer that only exists in client history.
 */
export function findApproval(
  info: GuardedToolInfo,
  options: ToolExecutionOptions<unknown>,
): HostApproval | undefined {
  const messages = options.messages as ModelMessage[] | undefined;
  if (!Array.isArray(messages) || evaluatedCalls.get(messages)?.get(options.toolCallId) !== 'user-approval')
    return undefined;
  for (const pending of pendingAnswers(messages)) {
    if (pending.toolCall.toolCallId !== options.toolCallId || !pending.approved) continue;
    const booked = answerBook(info.tg).take(pending.approvalId);
    if (booked === undefined)
      return { approved: true, approver: UNKNOWN_APPROVER, bypassed: bypassWarning(info) };
    // The SDK says approved, but the person's recorded answer is not this approval: deny.
    if (booked.toolCallId !== options.toolCallId || !booked.approved)
      return {
        approved: false,
        approver: booked.approver,
        reason: 'the approval does not match the recorded answer',
      };
    return { approved: true, approver: booked.approver };
  }
  return undefined;
}

/** What the approver reports if it is asked about this call and has no answer. */
export function missingAnswer(info: GuardedToolInfo, options: ToolExecutionOptions<unknown>): MissingAnswer {
  const seen = evaluatedCalls.get(options.messages as object)?.has(options.toolCallId) === true;
  return seen
    ? {
        code: 'NO_FRAMEWORK_ANSWER',
        message: `${info.key} asked for approval, but toolApproval(tg) did not send it to the AI SDK's approval flow (ask: 'guard'), and aiSdkApprover() only relays answers from that flow: give aiSdkApprover() a fallback approver`,
      }
    : {
        code: 'NO_TOOL_APPROVAL',
        message: `${info.key} asked for approval, but the generateText / streamText call has no toolApproval: toolApproval(tg), so no one could answer and the call was denied: pass it (or give the guard an approver of its own)`,
      };
}

/** Runs the guard for a call the SDK will not run, with the person's answer; returns what the model reads. */
async function settle(
  info: GuardedToolInfo,
  approvalId: string,
  toolCall: AiSdkApprovalRequest['toolCall'],
  approval: HostApproval,
  toolsContext: Record<string, unknown> | undefined,
): Promise<string | undefined> {
  const { toolCallId } = toolCall;
  answerBook(info.tg).set(approvalId, {
    toolCallId,
    approved: approval.approved,
    approver: approval.approver,
    recorded: !approval.approved,
  });
  if (approval.approved) return undefined;
  const callOptions: CallOptions = { toolCallId };
  const context = callContext(info.context, {
    toolName: info.key,
    toolCallId,
    toolContext: ownValue(toolsContext, info.key),
  });
  if (context !== undefined) callOptions.context = context;
  const outcome = await info.call(toolCall.input, callOptions, undefined, {
    approval,
    notRun: { code: 'APPROVAL_DENIED', reason: approval.reason ?? 'a person rejected the call' },
  });
  return outcome.ok ? undefined : denialMessage(outcome.denial, detailOf(info.tg));
}

function bypassWarning(info: GuardedToolInfo): MissingAnswer {
  return {
    code: 'ANSWER_BYPASSED',
    message: `a person's answer for ${info.key} reached the AI SDK without respondToApproval() (or recordApprovalResponses()), so toolgate does not know who answered: it is recorded as ${UNKNOWN_APPROVER}, and a rejection the SDK continues with no further tool call is not recorded at all`,
  };
}

function guardedInfo(tools: unknown, key: string): GuardedToolInfo | undefined {
  const tool = ownValue(tools, key);
  return typeof tool === 'object' && tool !== null ? guardedTools.get(tool) : undefined;
}

interface PendingAnswer {
  readonly approvalId: string;
  readonly approved: boolean;
  readonly reason: string | undefined;
  readonly toolCall: AiSdkApprovalRequest['toolCall'];
}

/**
 * The answers to non-automatic approval requests in the last message, when it is a tool message:
 * the ones the SDK acts on when it continues (as its own `collectToolApprovals` reads them).
 */
function* pendingAnswers(messages: readonly ModelMessage[]): Generator<PendingAnswer> {
  const last = messages.at(-1);
  if (last?.role !== 'tool' || !Array.isArray(last.content)) return;
  const calls = new Map<string, { toolName: string; input: unknown }>();
  const requests = new Map<string, string>();
  for (const message of messages) {
    if (message.role !== 'assistant' || typeof message.content === 'string') continue;
    for (const part of message.content) {
      if (part.type === 'tool-call')
        calls.set(part.toolCallId, { toolName: part.toolName, input: part.input });
      else if (part.type === 'tool-approval-request' && part.isAutomatic !== true)
        requests.set(part.approvalId, part.toolCallId);
    }
  }
  const results = new Set<string>();
  for (const part of last.content) if (part.type === 'tool-result') results.add(part.toolCallId);
  for (const part of last.content) {
    if (part.type !== 'tool-approval-response') continue;
    const toolCallId = requests.get(part.approvalId);
    const call = toolCallId === undefined ? undefined : calls.get(toolCallId);
    if (toolCallId === undefined || call === undefined || results.has(toolCallId)) continue;
    yield {
      approvalId: part.approvalId,
      approved: part.approved === true,
      reason: typeof part.reason === 'string' ? part.reason : undefined,
      toolCall: { toolName: call.toolName, toolCallId, input: call.input },
    };
  }
}
