import type { ModelMessage, Tool, ToolApprovalStatus, ToolSet } from 'ai';
import { reportWarning } from '../../_internal/guard-warnings.ts';
import { ConfigurationError, denialRule } from '../../errors.ts';
import type { CallOptions } from '../../guard-types.ts';
import type { Decision, ToolContext } from '../../types.ts';
import { type DenialParts, denialMessage, detailOf } from '../_shared/denials.ts';
import { type AnyGuard, reportNoApprover } from '../_shared/host-call.ts';
import { recordBypassedAnswers } from './answers.ts';
import {
  callContext,
  evaluatedCalls,
  type GuardedToolInfo,
  guardedTools,
  ownValue,
  toolgateName,
} from './shared.ts';
import type { AiSdkContextOption, AiSdkNameOption } from './types.ts';

/** What the AI SDK passes to a generic `toolApproval` function (the part toolgate reads). */
export interface ToolApprovalInput {
  readonly toolCall: { readonly toolName: string; readonly toolCallId: string; readonly input: unknown };
  readonly tools?: ToolSet | undefined;
  readonly toolsContext?: unknown;
  readonly runtimeContext?: unknown;
  readonly messages: ModelMessage[];
}

/** The app's own approval configuration: a generic function or a per-tool map, as the AI SDK takes it. */
export type AppToolApproval =
  | ((input: ToolApprovalInput) => ToolApprovalStatus | PromiseLike<ToolApprovalStatus>)
  | Record<
      string,
      | ToolApprovalStatus
      | ((
          input: unknown,
          options: {
            toolCallId: string;
            messages: ModelMessage[];
            toolContext: unknown;
            runtimeContext: unknown;
          },
        ) => ToolApprovalStatus | PromiseLike<ToolApprovalStatus>)
    >;

/** Options of the `toolApproval` helper. */
export interface ToolApprovalOptions {
  /** Name mapping for tools not wrapped by `guardTools` (wrapped tools use theirs). @default the key */
  name?: AiSdkNameOption;
  /** Host identity for the dry run. @default the `context` given to `guardTools` for that tool */
  context?: AiSdkContextOption;
  /** The app's own `toolApproval`; composed with toolgate, the strictest answer wins. */
  approval?: AppToolApproval;
  /**
   * Where toolgate's `ask` goes: `'user-approval'` (the AI SDK's approval flow; pair it with
   * `aiSdkApprover()` on the guard and answer with `respondToApproval()`) or `'guard'` (the call
   * executes and the guard's own approver answers inside `execute`). @default 'user-approval'
   */
  ask?: 'user-approval' | 'guard';
  /**
   * Where toolgate's `deny` goes, for tools wrapped by `guardTools` with `onDeny: 'return'`:
   * `'denied'` records the denial through the guard now and answers with the SDK's `denied`
   * status, so the model, the result and the UI show the SDK's own denied state; `'guard'` lets
   * the guarded `execute` deny the call (its output is then the `ToolDenial`). Tools wrapped with
   * `onDeny: 'throw'` always deny in `execute` (a `tool-error`); tools `guardTools` did not wrap are
   * always answered `denied`. @default 'denied'
   */
  deny?: 'denied' | 'guard';
}

/** The generic `toolApproval` function toolgate hands to `generateText` / `streamText` / `ToolLoopAgent`. */
export type ToolgateToolApproval = (input: ToolApprovalInput) => Promise<ToolApprovalStatus>;

type Status = Exclude<ToolApprovalStatus, string | undefined>;
const STRICTNESS = { 'not-applicable': 0, approved: 1, 'user-approval': 2, denied: 3 } as const;

/**
 * A generic AI SDK `toolApproval` function that maps toolgate's decision onto the SDK's statuses:
 * allow → `not-applicable`, ask → `user-approval` (the app's approval UI; answer it with
 * `respondToApproval()`), deny → `denied`, recorded by the guard first, so the SDK shows its own
 * denied state (see `deny`). It composes the app's own `toolApproval` and each tool's
 * `needsApproval` (which a generic function otherwise disables); the strictest answer wins.
 *
 * For allow and ask it only dry-runs the policy (`tg.check()`): the SDK calls it again on every
 * continuation, so it records nothing and consumes no limits there; the guarded `execute` stays
 * the enforcement point. Calls to tools the guard does not know are denied (`UNKNOWN_TOOL`).
 *
 * @example
 * const tg = createGuard({ policy, approver: aiSdkApprover() });
 * const tools = guardTools({ refund }, tg);
 * await generateText({ model, tools, toolApproval: toolApproval(tg), prompt,
 *   experimental_toolApprovalSecret: process.env.APPROVAL_SECRET });
 */
export function toolApproval(tg: AnyGuard, options: ToolApprovalOptions = {}): ToolgateToolApproval {
  const ask = options.ask ?? 'user-approval';
  if (ask !== 'user-approval' && ask !== 'guard')
    throw new ConfigurationError(`toolApproval: ask must be 'user-approval' or 'guard'`);
  const denyNow = (options.deny ?? 'denied') === 'denied';
  if (options.deny !== undefined && options.deny !== 'denied' && options.deny !== 'guard')
    throw new ConfigurationError(`toolApproval: deny must be 'denied' or 'guard'`);
  return async (input) => {
    const { toolCall, messages } = input;
    const key = toolCall.toolName;
    const toolContext = ownValue(input.toolsContext, key);
    const tool = ownValue(input.tools, key);
    // Answers the app passed to the SDK without respondToApproval(): recorded and reported.
    await recordBypassedAnswers(input.tools, messages, input.toolsContext);
    // A tool wrapped by guardTools is checked under its toolgate name and host identity.
    const info = typeof tool === 'object' && tool !== null ? guardedTools.get(tool) : undefined;
    const callInfo = { toolName: key, toolCallId: toolCall.toolCallId, toolContext };
    const context = callContext(options.context ?? info?.context, callInfo);
    const name = info?.name ?? toolgateName(options.name, key);
    const decision = await tg.check(name, toolCall.input, context);
    let status: Status;
    if (decision.type === 'deny') {
      status = await denied(tg, info, decision, input, context, denyNow, key);
    } else if (decision.type === 'ask' && ask === 'user-approval') {
      status = { type: 'user-approval', reason: decision.reason };
    } else {
      status = { type: 'not-applicable' };
    }
    const app = await appStatus(options.approval, input, toolContext);
    if (STRICTNESS[app.type] > STRICTNESS[status.type]) status = app;
    // Lets the guarded execute tell an AI SDK answer from a missing toolApproval (and aiSdkApprover()
    // accept the person's answer only when this helper asked for it in this same call).
    let calls = evaluatedCalls.get(messages);
    if (calls === undefined) {
      calls = new Map();
      evaluatedCalls.set(messages, calls);
    }
    calls.set(toolCall.toolCallId, status.type === 'user-approval' ? 'user-approval' : 'other');
    return status;
  };
}

/** toolgate's status for a deny found by the dry run. */
async function denied(
  tg: AnyGuard,
  info: GuardedToolInfo | undefined,
  decision: Extract<Decision, { type: 'deny' }>,
  input: ToolApprovalInput,
  context: ToolContext | undefined,
  denyNow: boolean,
  key: string,
): Promise<Status> {
  const { toolCall } = input;
  if (info === undefined) {
    // Nothing else would stop this tool: the SDK would run it unguarded.
    if (ownValue(input.tools, key) !== undefined)
      reportWarning(tg, {
        code: 'UNGUARDED_TOOL',
        message: `the AI SDK tool ${key} is not wrapped by guardTools(…, tg), so toolApproval(tg) denies every call to it (nothing would record or limit it): pass the guarded tool set`,
        source: 'ai-sdk',
        tool: key,
        toolCallId: toolCall.toolCallId,
      });
    return {
      type: 'denied',
      reason: denialMessage(decisionParts(key, decision), detailOf(tg)),
    };
  }
  // An ask no approver can answer: the SDK must not ask a person whose answer cannot be taken.
  if (decision.code === 'NO_APPROVER') reportNoApprover(tg, 'ai-sdk', info.name, toolCall.toolCallId);
  // Left to the guarded execute, which records it (and throws, with onDeny: 'throw').
  if (!denyNow || info.onDeny === 'throw') return { type: 'not-applicable' };
  // The guard decides and records the call now; it never runs. If the policy allows it by now,
  // it is recorded as not run: toolgate's answer to the SDK is already a denial.
  const callOptions: CallOptions = { toolCallId: toolCall.toolCallId };
  if (context !== undefined) callOptions.context = context;
  const outcome = await info.call(toolCall.input, callOptions, undefined, {
    notRun: { code: decision.code, reason: decision.reason },
  });
  const denial = outcome.ok ? decisionParts(info.name, decision) : outcome.denial;
  return { type: 'denied', reason: denialMessage(denial, detailOf(tg)) };
}

/** A dry run's deny as the parts of a denial message (its failed conditions are already redacted). */
function decisionParts(tool: string, decision: Extract<Decision, { type: 'deny' }>): DenialParts {
  return {
    tool,
    code: decision.code,
    reason: decision.reason,
    rule: denialRule(decision.rules, decision.failed),
    failed: decision.failed,
  };
}

/** The app's answer, resolved as the SDK would without toolgate: its function, its map, then `needsApproval`. */
async function appStatus(
  approval: AppToolApproval | undefined,
  input: ToolApprovalInput,
  toolContext: unknown,
): Promise<Status> {
  const { toolCall, messages } = input;
  if (typeof approval === 'function') return normalize(await approval(input));
  const entry = ownValue(approval, toolCall.toolName) as
    | ToolApprovalStatus
    | Extract<AppToolApproval, Record<string, unknown>>[string]
    | undefined;
  if (entry !== undefined && entry !== null) {
    return normalize(
      typeof entry === 'function'
        ? await entry(toolCall.input, {
            toolCallId: toolCall.toolCallId,
            messages,
            toolContext,
            runtimeContext: input.runtimeContext,
          })
        : entry,
    );
  }
  const tool = ownValue(input.tools, toolCall.toolName) as Tool | undefined;
  const needsApproval = tool?.needsApproval;
  if (needsApproval === undefined || needsApproval === null) return { type: 'not-applicable' };
  const needed =
    typeof needsApproval === 'function'
      ? await needsApproval(toolCall.input as never, {
          toolCallId: toolCall.toolCallId,
          messages,
          context: toolContext,
        })
      : needsApproval;
  return needed === true ? { type: 'user-approval' } : { type: 'not-applicable' };
}

/** Normalizes a status; anything the SDK would not recognise is treated as `denied` (fail closed). */
function normalize(status: ToolApprovalStatus): Status {
  if (status === undefined) return { type: 'not-applicable' };
  const type = typeof status === 'string' ? status : (status as { type?: unknown } | null)?.type;
  if (typeof type !== 'string' || !Object.hasOwn(STRICTNESS, type))
    return { type: 'denied', reason: 'toolgate: the app toolApproval returned an unknown status' };
  return typeof status === 'string' ? ({ type: status } as Status) : (status as Status);
}
