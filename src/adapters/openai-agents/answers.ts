import type { RunContext, RunState, RunToolApprovalItem } from '@openai/agents';
import { ConfigurationError } from '../../errors.ts';
import type { CallOptions } from '../../guard-types.ts';
import { type ApprovalAnswer, hostAnswer } from '../_shared/answers.ts';
import { denialMessage, detailOf } from '../_shared/denials.ts';
import type { HostApproval, MissingAnswer } from '../_shared/host-call.ts';
import { alwaysKey, answerBook, type GuardedToolInfo, guardedTools } from './shared.ts';

/** Who approved, when a person's answer reached the SDK without `respondToApproval`. */
export const UNKNOWN_APPROVER = 'openai-agents:user';

/** A person's answer to an OpenAI Agents interruption. */
export interface AgentsApprovalAnswer extends ApprovalAnswer {
  /** With `approved: true`: also approve later calls of this tool in this run (`alwaysApprove`). */
  readonly always?: boolean;
}

/** A run state that can answer interruptions (`result.state`). */
type AnyRunState = Pick<RunState<unknown, never>, 'approve' | 'reject' | '_context'>;

/** Calls toolgate sent to an interruption, per run, so a rejection given past the helper is noticed. */
const interruptions = new WeakMap<object, Map<string, { info: GuardedToolInfo; args: unknown }>>();
const patched = new WeakSet<object>();
/** Items `respondToApproval` is rejecting right now (recorded there, not by the watcher). */
const answering = new WeakSet<object>();

/**
 * Applies a person's answer to an interruption (`result.state.approve` / `reject`) and records it
 * with who gave it: a rejection is recorded now, through the guard (`approval-request`,
 * `approval-response`, then the `decision` with `APPROVAL_DENIED`), and the model reads that
 * denial as the tool's output; an approval is recorded when the resumed run calls the tool. This is
 * how a person's answer reaches the SDK: one given with `state.approve()` / `state.reject()`
 * directly is reported as a `warning` (`ANSWER_BYPASSED`) and recorded without who answered.
 *
 * @example
 * for (const item of result.interruptions)
 *   await respondToApproval(result.state, item, { approved: false, approver: 'user:ops-alice', reason: 'too much' });
 * result = await run(agent, result.state);
 */
export async function respondToApproval(
  state: AnyRunState,
  item: RunToolApprovalItem,
  answer: AgentsApprovalAnswer,
): Promise<void> {
  const approval = hostAnswer(answer, 'respondToApproval');
  if (answer.always === true && !answer.approved)
    throw new ConfigurationError(
      'respondToApproval: always applies to approvals only (a standing rejection would hide later calls from toolgate)',
    );
  const runContext = state._context as RunContext<unknown>;
  const callId = callIdOf(item);
  const info = toolInfo(item);
  if (approval.approved) {
    if (info !== undefined && callId !== undefined) {
      answerBook(runContext).set(answer.always === true ? alwaysKey(info.toolName) : callId, {
        approved: true,
        approver: approval.approver,
      });
    }
    state.approve(item, { alwaysApprove: answer.always === true });
    return;
  }
  let message = approval.reason;
  if (info !== undefined && callId !== undefined) {
    interruptions.get(runContext)?.delete(callId);
    // Kept, so an approval given later for this call (state.approve) is not taken as an answer.
    answerBook(runContext).set(callId, { approved: false, approver: approval.approver });
    message = await settleRejection(info, runContext, callId, parseArgs(item.arguments), approval);
  }
  answering.add(item);
  try {
    state.reject(item, message === undefined ? {} : { message });
  } finally {
    answering.delete(item);
  }
}

/**
 * Remembers a call toolgate sent to an interruption, and watches the run's `rejectTool`, so a
 * rejection given with `state.reject()` directly is still recorded (identity unknown) and reported.
 */
export function watchInterruption(
  runContext: RunContext<unknown>,
  callId: string,
  info: GuardedToolInfo,
  args: unknown,
): void {
  let pending = interruptions.get(runContext);
  if (pending === undefined) {
    pending = new Map();
    interruptions.set(runContext, pending);
  }
  pending.set(callId, { info, args });
  if (patched.has(runContext) || typeof runContext.rejectTool !== 'function') return;
  patched.add(runContext);
  const rejectTool = runContext.rejectTool;
  runContext.rejectTool = function (this: RunContext<unknown>, item, options) {
    const id = callIdOf(item);
    const watched = id === undefined ? undefined : pending.get(id);
    if (id !== undefined && watched !== undefined && !answering.has(item)) {
      pending.delete(id);
      const approval: HostApproval = {
        approved: false,
        approver: UNKNOWN_APPROVER,
        bypassed: bypassWarning(watched.info),
        ...(typeof options?.message === 'string' ? { reason: options.message } : {}),
      };
      // rejectTool is synchronous: the guard records the rejection in the background.
      settleRejection(watched.info, runContext, id, watched.args, approval).catch(() => {});
    }
    return rejectTool.call(this, item, options);
  };
}

/** Forgets a watched call (it ran, or was answered). */
export function forgetInterruption(runContext: RunContext<unknown>, callId: string): void {
  interruptions.get(runContext)?.delete(callId);
}

/** The person's approval for a call the SDK is running, from the helper's book or (bypassed) the run context. */
export function findApproval(
  info: GuardedToolInfo,
  runContext: RunContext<unknown>,
  callId: string | undefined,
): HostApproval | undefined {
  if (callId === undefined || runContext.isToolApproved({ toolName: info.toolName, callId }) !== true)
    return undefined;
  forgetInterruption(runContext, callId);
  const book = answerBook(runContext);
  const booked = book.take(callId) ?? book.get(alwaysKey(info.toolName));
  // The run says approved, but the person's recorded answer was a rejection: deny.
  if (booked?.approved === false)
    return {
      approved: false,
      approver: booked.approver,
      reason: 'the approval does not match the recorded answer',
    };
  if (booked !== undefined) return { approved: true, approver: booked.approver };
  return { approved: true, approver: UNKNOWN_APPROVER, bypassed: bypassWarning(info) };
}

/** Runs the guard for a call the SDK will not run, with the person's rejection; returns what the model reads. */
async function settleRejection(
  info: GuardedToolInfo,
  runContext: RunContext<unknown>,
  callId: string,
  args: unknown,
  approval: HostApproval,
): Promise<string> {
  const callOptions: CallOptions = { toolCallId: callId };
  const context = info.contextFor(runContext);
  if (context !== undefined) callOptions.context = context;
  const outcome = await info.call(args, callOptions, undefined, {
    approval,
    notRun: { code: 'APPROVAL_DENIED', reason: approval.reason ?? 'a person rejected the call' },
  });
  return outcome.ok
    ? (approval.reason ?? 'a person rejected the call')
    : denialMessage(outcome.denial, detailOf(info.tg));
}

function bypassWarning(info: GuardedToolInfo): MissingAnswer {
  return {
    code: 'ANSWER_BYPASSED',
    message: `a person's answer for ${info.toolName} was given with state.approve() / state.reject() instead of respondToApproval(), so toolgate does not know who answered: it is recorded as ${UNKNOWN_APPROVER} (and a rejection on a state restored with RunState.fromString is not recorded at all)`,
  };
}

/** The guarded tool an interruption is for: the item's agent holds the tool object. */
function toolInfo(item: RunToolApprovalItem): GuardedToolInfo | undefined {
  const name = item.toolName ?? item.name;
  const tools = (item.agent as { tools?: readonly unknown[] } | undefined)?.tools ?? [];
  for (const tool of tools) {
    const info = typeof tool === 'object' && tool !== null ? guardedTools.get(tool) : undefined;
    if (info !== undefined && info.toolName === name) return info;
  }
  return undefined;
}

function callIdOf(item: RunToolApprovalItem): string | undefined {
  const raw = item.rawItem as { callId?: unknown };
  return typeof raw.callId === 'string' ? raw.callId : undefined;
}

function parseArgs(text: string | undefined): unknown {
  try {
    return text === undefined ? undefined : JSON.parse(text);
  } catch {
    // Not JSON: the guard denies it as INVALID_ARGS, and records that.
    return text;
  }
}
