import type { ToolContext } from '../../types.ts';

/** What the AI SDK tells toolgate about a call; used to resolve host identity. */
export interface AiSdkCallInfo {
  /** The key of the tool in the tool set. */
  readonly toolName: string;
  readonly toolCallId: string;
  /** The tool's host-supplied context (`toolsContext[toolName]`), never model text. */
  readonly toolContext: unknown;
}

/** Host identity for AI SDK calls: a fixed context, or one computed from the tool's host context. */
export type AiSdkContextOption = ToolContext | ((call: AiSdkCallInfo) => ToolContext | undefined);

/** Maps a tool-set key to the toolgate tool name (default: the key itself). */
export type AiSdkNameOption = (toolName: string) => string;

/**
 * Tool calls the toolApproval helper sent to the user in this `generateText`/`streamText` call,
 * keyed by the messages array the SDK passes both to `toolApproval` and to `execute`.
 */
export const userApprovalCalls: WeakMap<object, Set<string>> = new WeakMap();

export function toolgateName(option: AiSdkNameOption | undefined, key: string): string {
  return option === undefined ? key : option(key);
}

/** What `guardTools` knows about a tool it wrapped (its `execute` runs the guard, which records every decision). */
export interface GuardedToolInfo {
  /** The toolgate name. */
  readonly name: string;
  readonly context: AiSdkContextOption | undefined;
}

/** Tools returned by `guardTools`, so `toolApproval` checks them under the same name and identity. */
export const guardedTools: WeakMap<object, GuardedToolInfo> = new WeakMap();
