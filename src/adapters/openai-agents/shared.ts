import type { FunctionTool, RunContext } from '@openai/agents';
import type { ToolContext } from '../../types.ts';
import { type AnswerBook, AnswerBooks } from '../_shared/answer-book.ts';
import type { AnyGuard, HostToolCaller } from '../_shared/host-call.ts';

/** What a guarded `invoke` hands to the original tool. */
export interface InvokeData {
  readonly runContext: RunContext<unknown>;
  readonly details: Parameters<FunctionTool['invoke']>[2];
}

/**
 * What a tool built by `guardedTool` reports of one run of its `execute`: whether it started and
 * finished, and what it threw (or the output check it failed). Carried to `execute` in the call's details under `EXECUTION` (a symbol key, which
 * the SDK keeps when it copies the details).
 */
export interface Execution {
  started: boolean;
  /** `execute` returned, or threw. */
  settled: boolean;
  failed: boolean;
  error: unknown;
}

/** The details key of a call's `Execution`. */
export const EXECUTION: unique symbol = Symbol('toolgate.openai-agents.execution');

/** What `guardTool` knows about a tool it wrapped, for `respondToApproval`. */
export interface GuardedToolInfo {
  /** The toolgate name. */
  readonly name: string;
  /** The SDK tool name. */
  readonly toolName: string;
  readonly tg: AnyGuard;
  readonly contextFor: (runContext: RunContext<unknown>) => ToolContext | undefined;
  /** Runs one call through the guard (`data` is undefined for calls that must not run). */
  readonly call: HostToolCaller<InvokeData | undefined>;
}

/** Tools returned by `guardTool`. */
export const guardedTools: WeakMap<object, GuardedToolInfo> = new WeakMap();

/** A person's answer given through `respondToApproval`, for the run it belongs to. */
export interface BookedAnswer {
  readonly approved: boolean;
  readonly approver: string;
}

const books = new AnswerBooks<BookedAnswer>();

/** Answers given through `respondToApproval` for one run (its RunContext), by call id or `*tool`. */
export function answerBook(runContext: object): AnswerBook<BookedAnswer> {
  return books.for(runContext);
}

/** The book key of an `alwaysApprove` answer for a tool. */
export function alwaysKey(toolName: string): string {
  return `*${toolName}`;
}
