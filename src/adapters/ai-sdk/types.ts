import type { Tool, ToolExecuteFunction, ToolSet } from 'ai';
import type { ToolContext, ToolDenial } from '../../types.ts';
import type { OnDenyOption } from '../_shared/on-deny.ts';

/** What the AI SDK tells toolgate about a call; used to resolve host identity. */
export interface AiSdkCallInfo<CONTEXT = unknown, NAME extends string = string> {
  /** The key of the tool in the tool set. */
  readonly toolName: NAME;
  readonly toolCallId: string;
  /** The tool's host-supplied context (`toolsContext[toolName]`), never model text. */
  readonly toolContext: CONTEXT;
}

/**
 * The context a tool declares with `contextSchema` (what `toolsContext[name]` must hold), or
 * `unknown` for a tool without one.
 */
export type ToolContextOf<T> =
  T extends Tool<infer _Input, infer _Output, infer CONTEXT>
    ? string extends keyof CONTEXT
      ? unknown
      : CONTEXT
    : unknown;

/** One `AiSdkCallInfo` per tool of a set, told apart by `toolName`. */
export type AiSdkCallInfoOf<TOOLS extends ToolSet> = {
  [K in keyof TOOLS & string]: AiSdkCallInfo<ToolContextOf<TOOLS[K]>, K>;
}[keyof TOOLS & string];

/** Host identity for AI SDK calls: a fixed context, or one computed from the tool's host context. */
export type AiSdkContextOption<INFO = AiSdkCallInfo> =
  | ToolContext
  | ((call: INFO) => ToolContext | undefined);

/** Maps a tool-set key to the toolgate tool name (default: the key itself). */
export type AiSdkNameOption = (toolName: string) => string;

/** Options of `guardTools`. */
export interface GuardToolsOptions<TOOLS extends ToolSet = ToolSet> {
  /** Maps a tool-set key to the name policies match on. @default the key */
  name?: AiSdkNameOption;
  /**
   * Host identity (agent, principal, …) for every call, merged over `tg.withContext`: fixed, or a
   * function of `{ toolName, toolCallId, toolContext }`, where `toolContext` is what the host passed
   * in `toolsContext[toolName]`, typed by the tool's `contextSchema`.
   */
  context?: AiSdkContextOption<AiSdkCallInfoOf<TOOLS>>;
  /**
   * `'return'`: a denial is handed back in the AI SDK's own shape. Decided before the tool runs
   * (with `toolApproval(tg)`), it is the SDK's denied state (`execution-denied` for the model,
   * `tool-output-denied` / `output-denied` for the app and the UI); decided while executing, the
   * tool's output is the `ToolDenial` (typed), which the model reads as `execution-denied`.
   * `'throw'`: `execute` rejects with the guard's `ToolDeniedError` (an SDK `tool-error`).
   * `'result'` is a deprecated spelling of `'return'`.
   * @default 'return'
   */
  onDeny?: OnDenyOption;
  /** Risk labels and tags per tool key, for policies and approvers. */
  meta?: Record<string, { risk?: string; tags?: readonly string[] }>;
}

/** A guarded tool whose output may also be a `ToolDenial` (tools with `execute`; others unchanged). */
export type GuardedAiSdkTool<T> = [T] extends [Tool<infer INPUT, infer OUTPUT, infer CONTEXT>]
  ? [T] extends [{ execute: unknown }]
    ? Omit<T, 'execute' | 'toModelOutput'> &
        Tool<INPUT, OUTPUT | ToolDenial, CONTEXT> & {
          execute: ToolExecuteFunction<INPUT, OUTPUT | ToolDenial, CONTEXT>;
        }
    : T
  : T;

/**
 * The tool set `guardTools` returns with `onDeny: 'return'` (the default): every tool with an
 * `execute` may also resolve with a `ToolDenial`, so `toolResults[i].output` is typed
 * `Output | ToolDenial`. With `onDeny: 'throw'` the set keeps its input type.
 */
export type GuardedToolSet<TOOLS extends ToolSet> = { [K in keyof TOOLS]: GuardedAiSdkTool<TOOLS[K]> };
