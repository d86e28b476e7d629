import type { Tool, ToolExecutionOptions, ToolSet } from 'ai';
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
      return data.execute(args, { ...data.options, abortSignal: toolCallOptions.signal });
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
  const run = async (input: unknown, execOptions: ToolExecutionOptions<unknown>): Promise<unknown> => {
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
      { execute, options: execOptions },
      { approval: findApproval(info, execOptions), missing: () => missingAnswer(info, execOptions) },
    );
    if (outcome.ok) return outcome.value;
    if (onDeny === 'throw') throw denialError(outcome);
    return outcome.denial;
  };

  const wrapped = { ...original } as Tool & { execute: NonNullable<Tool['execute']> };
  if (isAsyncGeneratorFunction(execute)) {
    // Streaming tools: the SDK needs an async iterable back, so the wrapper is one too.
    wrapped.execute = async function* (
      input: unknown,
      execOptions: ToolExecutionOptions<unknown>,
    ): AsyncGenerator<unknown, void, unknown> {
      const value = await run(input, execOptions);
      if (asDenial(value) !== undefined) {
        yield value;
        return;
      }
      yield* value as AsyncIterable<unknown>;
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

function isAsyncGeneratorFunction(fn: unknown): boolean {
  return typeof fn === 'function' && Object.prototype.toString.call(fn) === '[object AsyncGeneratorFunction]';
}
