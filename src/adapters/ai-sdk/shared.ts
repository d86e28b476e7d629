import type { Tool, ToolExecutionOptions } from 'ai';
import type { ToolContext } from '../../types.ts';
import { type AnswerBook, AnswerBooks } from '../_shared/answer-book.ts';
import { type AnyGuard, type HostToolCaller, resolveContext } from '../_shared/host-call.ts';
import type { AdapterOnDeny } from '../_shared/on-deny.ts';
import type { AiSdkCallInfo, AiSdkContextOption, AiSdkNameOption } from './types.ts';

/** What a guarded `execute` hands to the original tool. */
export interface ExecuteData {
  readonly execute: NonNullable<Tool['execute']>;
  readonly options: ToolExecutionOptions<unknown>;
  /** Hears a streaming tool's preliminary results, each before the next arrives (not the last). */
  readonly preliminary?: ((chunk: unknown) => void) | undefined;
}

/** What `guardTools` knows about a tool it wrapped, for `toolApproval` and `respondToApproval`. */
export interface GuardedToolInfo {
  /** The key in the tool set. */
  readonly key: string;
  /** The toolgate name. */
  readonly name: string;
  readonly tg: AnyGuard;
  readonly context: AiSdkContextOption | undefined;
  readonly onDeny: AdapterOnDeny;
  /** Runs one call through the guard (`data` is undefined for calls that must not run). */
  readonly call: HostToolCaller<ExecuteData | undefined>;
}

/** Tools returned by `guardTools`, so `toolApproval` checks them under the same name and identity. */
export const guardedTools: WeakMap<object, GuardedToolInfo> = new WeakMap();

/**
 * What `toolApproval(tg)` answered for each tool call, keyed by the messages array the SDK hands
 * both to `toolApproval` and to `execute` within one `generateText` / `streamText` call.
 */
export const evaluatedCalls: WeakMap<object, Map<string, 'user-approval' | 'other'>> = new WeakMap();

/** A person's answer given through `respondToApproval` or `recordApprovalResponses`. */
export interface BookedAnswer {
  readonly toolCallId: string;
  readonly approved: boolean;
  readonly approver: string;
  /** The guard has recorded it (rejections are recorded when given). */
  readonly recorded: boolean;
}

const books = new AnswerBooks<BookedAnswer>();

/** Answers given through the helpers, per guard, by approval id. */
export function answerBook(tg: AnyGuard): AnswerBook<BookedAnswer> {
  return books.for(tg);
}

export function toolgateName(option: AiSdkNameOption | undefined, key: string): string {
  return option === undefined ? key : option(key);
}

/** The host identity of one call, from the `context` option. */
export function callContext(
  option: AiSdkContextOption | undefined,
  call: AiSdkCallInfo,
): ToolContext | undefined {
  return resolveContext(option, call);
}

/** An own property of a record (never an inherited one). */
export function ownValue(record: unknown, key: string): unknown {
  return typeof record === 'object' && record !== null && Object.hasOwn(record, key)
    ? (record as Record<string, unknown>)[key]
    : undefined;
}
