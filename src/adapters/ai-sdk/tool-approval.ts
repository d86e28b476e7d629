import type { ModelMessage, Tool, ToolApprovalStatus, ToolSet } from 'ai';
import { type AnyGuard, resolveContext } from '../_shared/host-call.ts';
import {
  type AiSdkContextOption,
  type AiSdkNameOption,
  guardedTools,
  toolgateName,
  userApprovalCalls,
} from './shared.ts';

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
   * `aiSdkApprover()` on the guard) or `'guard'` (the call executes and the guard's own approver
   * answers inside `execute`). @default 'user-approval'
   */
  ask?: 'user-approval' | 'guard';
  /**
   * Where toolgate's `deny` goes: `'guard'` lets the guarded `execute` deny the call, so the guard
   * records the decision (the model sees an `execution-denied` result); `'denied'` answers with the
   * SDK's `denied` status, which the guard never sees or records. Tools that `guardTools` did not
   * wrap are always answered `denied`. @default 'guard'
   */
  deny?: 'guard' | 'denied';
}

/** The generic `toolApproval` function toolgate hands to `generateText` / `streamText` / `ToolLoopAgent`. */
export type ToolgateToolApproval = (input: ToolApprovalInput) => Promise<ToolApprovalStatus>;

type Status = Exclude<ToolApprovalStatus, string | undefined>;
const STRICTNESS = { 'not-applicable': 0, approved: 1, 'user-approval': 2, denied: 3 } as const;

/**
 * A generic AI SDK `toolApproval` function that maps toolgate's decision onto the SDK's statuses:
 * allow → `not-applicable`, ask → `user-approval` (the app's approval UI), deny → `not-applicable`
 * for tools wrapped by `guardTools` (their `execute` denies and the guard records it; see `deny`),
 * else `denied` (the model sees the reason). It composes the app's own `toolApproval` and each tool's
 * `needsApproval` (which a generic function otherwise disables); the strictest answer wins.
 *
 * It only dry-runs the policy (`tg.check()`): the SDK calls it again on every continuation, so it
 * records nothing and consumes no limits. The guarded `execute` stays the enforcement point.
 * Calls to tools the guard does not know are denied (`UNKNOWN_TOOL`).
 *
 * @example
 * const tg = createGuard({ policy, approver: aiSdkApprover() });
 * const tools = guardTools({ refund }, tg);
 * await generateText({ model, tools, toolApproval: toolApproval(tg), prompt,
 *   experimental_toolApprovalSecret: process.env.APPROVAL_SECRET });
 */
export function toolApproval(tg: AnyGuard, options: ToolApprovalOptions = {}): ToolgateToolApproval {
  const ask = options.ask ?? 'user-approval';
  const denyInGuard = (options.deny ?? 'guard') === 'guard';
  return async (input) => {
    const { toolCall, messages } = input;
    const key = toolCall.toolName;
    const toolContext = ownValue(input.toolsContext, key);
    const tool = ownValue(input.tools, key);
    // A tool wrapped by guardTools is checked under its toolgate name and host identity.
    const info = typeof tool === 'object' && tool !== null ? guardedTools.get(tool) : undefined;
    const context = resolveContext(options.context ?? info?.context, {
      toolName: key,
      toolCallId: toolCall.toolCallId,
      toolContext,
    });
    const name = info?.name ?? toolgateName(options.name, key);
    const decision = await tg.check(name, toolCall.input, context);
    let status: Status;
    if (decision.type === 'deny' && !(denyInGuard && info !== undefined)) {
      status = { type: 'denied', reason: `toolgate denied ${key} (${decision.code}): ${decision.reason}` };
    } else if (decision.type === 'ask' && ask === 'user-approval') {
      status = { type: 'user-approval', reason: decision.reason };
    } else {
      status = { type: 'not-applicable' };
    }
    const app = await appStatus(options.approval, input, toolContext);
    if (STRICTNESS[app.type] > STRICTNESS[status.type]) status = app;
    if (status.type === 'user-approval') {
      // Lets aiSdkApprover() accept the user's answer when the SDK executes this call.
      let calls = userApprovalCalls.get(messages);
      if (calls === undefined) {
        calls = new Set();
        userApprovalCalls.set(messages, calls);
      }
      calls.add(toolCall.toolCallId);
    }
    return status;
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

function ownValue(record: unknown, key: string): unknown {
  return typeof record === 'object' && record !== null && Object.hasOwn(record, key)
    ? (record as Record<string, unknown>)[key]
    : undefined;
}
