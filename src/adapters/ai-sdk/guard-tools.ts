import type { Tool, ToolExecutionOptions, ToolSet } from 'ai';
import { guardRecorder } from '../../_internal/guard-records.ts';
import { ConfigurationError } from '../../errors.ts';
import type { CallOptions } from '../../guard-types.ts';
import { asDenial, denialMessage, detailOf } from '../_shared/denials.ts';
import { type AnyGuard, guardHostTool } from '../_shared/host-call.ts';
import { type AdapterOnDeny, type DeprecatedOnDeny, denialError, parseOnDeny } from '../_shared/on-deny.ts';
import { hostToolOptions } from '../_shared/tool-options.ts';
import { findApproval, missingAnswer } from './answers.ts';
import { callContext, type ExecuteData, type GuardedToolInfo, guardedTools, toolgateName } from './shared.ts';
import type { AiSdkContextOption, GuardedToolSet, GuardToolsOptions } from './types.ts';

/**
 * Wraps every tool of an AI SDK tool set that has an `execute`, so each call goes through the
 * guard with the SDK's `toolCallId`, `abortSignal` and host context. Every other field
 * (description, inputSchema, outputSchema, metadata, …) is kept; tools without `execute`
 * (provider-executed, client-side) are returned unchanged. Each tool is registered under its key
 * (or `options.name(key)`), so `tg.check()` and the `toolApproval` helper know it. With
 * `onDeny: 'return'` (the default) the returned set's outputs are typed `Output | ToolDenial`.
 *
 * @example
 * const tools = guardTools({ weather, refund }, tg, { context: { agent: 'support-bot' } });
 * await generateText({ model, tools, toolApproval: toolApproval(tg), prompt });
 */
export function guardTools<TOOLS extends ToolSet>(
  tools: TOOLS,
  tg: AnyGuard,
  options?: GuardToolsOptions<TOOLS> & { onDeny?: 'return' | DeprecatedOnDeny },
): GuardedToolSet<TOOLS>;
export function guardTools<TOOLS extends ToolSet>(
  tools: TOOLS,
  tg: AnyGuard,
  options: GuardToolsOptions<TOOLS> & { onDeny: 'throw' },
): TOOLS;
export function guardTools<TOOLS extends ToolSet>(
  tools: TOOLS,
  tg: AnyGuard,
  options: GuardToolsOptions<TOOLS> = {},
): GuardedToolSet<TOOLS> | TOOLS {
  if (typeof tools !== 'object' || tools === null)
    throw new ConfigurationError('guardTools takes a tool set');
  const onDeny = parseOnDeny(options.onDeny, 'guardTools');
  const result: Record<string, Tool> = {};
  for (const key of Object.keys(tools)) {
    const original = tools[key] as Tool;
    // defineProperty: a key such as `__proto__` stays an own property.
    Object.defineProperty(result, key, {
      value:
        typeof original.execute === 'function'
          ? guardTool(key, original, tg, options as unknown as GuardToolsOptions, onDeny)
          : original,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return result as GuardedToolSet<TOOLS>;
}

function guardTool(
  key: string,
  original: Tool,
  tg: AnyGuard,
  options: GuardToolsOptions,
  onDeny: AdapterOnDeny,
): Tool {
  const name = toolgateName(options.name, key);
  const execute = original.execute as NonNullable<Tool['execute']>;
  const meta = options.meta?.[key];
  const toolOptions = hostToolOptions({
    name,
    schema: original.inputSchema,
    description: original.description,
    risk: meta?.risk,
    tags: meta?.tags,
  });

  const call = guardHostTool<ExecuteData | undefined>(
    tg,
    'ai-sdk',
    toolOptions,
    (args, toolCallOptions, data) => {
      if (data === undefined) throw new Error(`toolgate: ${name} has no AI SDK call to run`);
      // The tool gets the frozen, evaluated args and the guard's signal (caller abort + timeout).
      const result = data.execute(args, { ...data.options, abortSignal: toolCallOptions.signal });
      // A streaming tool's result is its last chunk: read here, inside the call, so the guard
      // scrubs, caps and records what the model gets, and the call ends when the stream does.
      return isAsyncIterable(result) ? lastChunk(result, toolCallOptions.signal, data.preliminary) : result;
    },
  );
  const info: GuardedToolInfo = {
    key,
    name,
    tg,
    context: options.context as AiSdkContextOption | undefined,
    onDeny,
    call,
  };
  const run = async (
    input: unknown,
    execOptions: ToolExecutionOptions<unknown>,
    preliminary?: (chunk: unknown) => void,
  ): Promise<unknown> => {
    const callOptions: CallOptions = { toolCallId: execOptions.toolCallId };
    const context = callContext(info.context, {
      toolName: key,
      toolCallId: execOptions.toolCallId,
      toolContext: execOptions.context,
    });
    if (context !== undefined) callOptions.context = context;
    if (execOptions.abortSignal !== undefined) callOptions.signal = execOptions.abortSignal;
    const outcome = await call(
      input,
      callOptions,
      { execute, options: execOptions, preliminary },
      { approval: findApproval(info, execOptions), missing: () => missingAnswer(info, execOptions) },
    );
    if (outcome.ok) return outcome.value;
    if (onDeny === 'throw') throw denialError(outcome);
    return outcome.denial;
  };

  const wrapped = { ...original } as Tool & { execute: NonNullable<Tool['execute']> };
  if (isAsyncGeneratorFunction(execute)) {
    // Streaming tools stay streaming: preliminary results are passed on as they come (scrubbed of
    // the guard's secrets), and the last, the call's result, once the guard has finished it.
    wrapped.execute = async function* (
      input: unknown,
      execOptions: ToolExecutionOptions<unknown>,
    ): AsyncGenerator<unknown, void, unknown> {
      const queue: unknown[] = [];
      let wake: (() => void) | undefined;
      const outcome = run(input, execOptions, (chunk) => {
        queue.push(guardRecorder(tg)?.shown(chunk) ?? chunk);
        wake?.();
      }).then(
        (value) => ({ value }),
        (error: unknown) => ({ error }),
      );
      let settled: { value: unknown } | { error: unknown } | undefined;
      void outcome.then((result) => {
        settled = result;
        wake?.();
      });
      for (;;) {
        while (queue.length > 0) yield queue.shift();
        if (settled !== undefined) break;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
      if ('error' in settled) throw settled.error;
      yield settled.value;
    };
  } else {
    wrapped.execute = run;
  }
  const toModelOutput = original.toModelOutput;
  // A denial decided while executing is shown to the model as the SDK's own `execution-denied`.
  (wrapped as { toModelOutput: Tool['toModelOutput'] }).toModelOutput = (toolOutput: {
    toolCallId: string;
    input: unknown;
    output: unknown;
  }) => {
    const denial = asDenial(toolOutput.output);
    if (denial !== undefined)
      return { type: 'execution-denied', reason: denialMessage(denial, detailOf(tg)) };
    if (toModelOutput !== undefined) return toModelOutput(toolOutput as never);
    const output = toolOutput.output;
    return typeof output === 'string'
      ? { type: 'text', value: output }
      : { type: 'json', value: output === undefined ? null : JSON.parse(JSON.stringify(output)) };
  };
  guardedTools.set(wrapped, info);
  return wrapped;
}

function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  );
}

/**
 * Reads a stream to its end (or the call's abort) and answers its last chunk; each chunk before it
 * goes to `preliminary` when the next arrives.
 */
async function lastChunk(
  stream: AsyncIterable<unknown>,
  signal: AbortSignal,
  preliminary: ((chunk: unknown) => void) | undefined,
): Promise<unknown> {
  let last: unknown;
  let any = false;
  for await (const chunk of stream) {
    if (any) preliminary?.(last);
    last = chunk;
    any = true;
    // Leaving the loop ends the tool's generator (its `finally` runs).
    if (signal.aborted) break;
  }
  return last;
}

function isAsyncGeneratorFunction(fn: unknown): boolean {
  return typeof fn === 'function' && Object.prototype.toString.call(fn) === '[object AsyncGeneratorFunction]';
}
