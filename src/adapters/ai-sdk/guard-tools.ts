import type { ModelMessage, Tool, ToolExecutionOptions, ToolSet } from 'ai';
import type { ApprovalProvider } from '../../approval/types.ts';
import type { StandardSchemaV1 } from '../../standard-schema.ts';
import {
  type AnyGuard,
  asDenial,
  denialError,
  denialMessage,
  guardHostTool,
  type HostApproval,
  type HostApproverOptions,
  hostApprover,
  resolveContext,
} from '../_shared/host-call.ts';
import {
  type AiSdkContextOption,
  type AiSdkNameOption,
  guardedTools,
  toolgateName,
  userApprovalCalls,
} from './shared.ts';

/** Options of `guardTools`. */
export interface GuardToolsOptions {
  /** Maps a tool-set key to the name policies match on. @default the key */
  name?: AiSdkNameOption;
  /** Host identity (agent, principal, …) for every call; merged over `tg.withContext`. */
  context?: AiSdkContextOption;
  /**
   * `'result'`: a denied call resolves with a `ToolDenial` that the model sees as an
   * `execution-denied` tool result. `'throw'`: the guard's error reaches the SDK (a `tool-error`).
   * @default 'result'
   */
  onDeny?: 'result' | 'throw';
  /** Risk labels and tags per tool key, for policies and approvers. */
  meta?: Record<string, { risk?: string; tags?: readonly string[] }>;
}

/** A tool set whose executable tools are guarded; denied calls may resolve with a `ToolDenial`. */
export type GuardedToolSet<TOOLS extends ToolSet> = TOOLS;

type ExecuteData = {
  readonly execute: NonNullable<Tool['execute']>;
  readonly options: ToolExecutionOptions<unknown>;
};

/**
 * Wraps every tool of an AI SDK tool set that has an `execute`, so each call goes through the
 * guard with the SDK's `toolCallId`, `abortSignal` and host context. Every other field
 * (description, inputSchema, outputSchema, metadata, …) is kept; tools without `execute`
 * (provider-executed, client-side) are returned unchanged. Each tool is registered under its key
 * (or `options.name(key)`), so `tg.check()` and the `toolApproval` helper know it.
 *
 * @example
 * const tools = guardTools({ weather, refund }, tg, { context: { agent: 'support-bot' } });
 * await generateText({ model, tools, toolApproval: toolApproval(tg), prompt });
 */
export function guardTools<TOOLS extends ToolSet>(
  tools: TOOLS,
  tg: AnyGuard,
  options: GuardToolsOptions = {},
): GuardedToolSet<TOOLS> {
  const result: Record<string, Tool> = {};
  for (const key of Object.keys(tools)) {
    const original = tools[key] as Tool;
    // defineProperty: a key such as `__proto__` stays an own property.
    Object.defineProperty(result, key, {
      value: typeof original.execute === 'function' ? guardTool(key, original, tg, options) : original,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return result as TOOLS;
}

function guardTool(key: string, original: Tool, tg: AnyGuard, options: GuardToolsOptions): Tool {
  const name = toolgateName(options.name, key);
  const execute = original.execute as NonNullable<Tool['execute']>;
  const schema = original.inputSchema as unknown as Partial<StandardSchemaV1> | undefined;
  const toolOptions: Parameters<typeof guardHostTool>[1] = { name };
  if (typeof schema?.['~standard']?.validate === 'function') toolOptions.input = schema as StandardSchemaV1;
  if (typeof original.description === 'string') toolOptions.description = original.description;
  const meta = options.meta?.[key];
  if (meta?.risk !== undefined) toolOptions.risk = meta.risk;
  if (meta?.tags !== undefined) toolOptions.tags = meta.tags;

  const call = guardHostTool<ExecuteData>(tg, toolOptions, (args, toolCallOptions, data) =>
    // The tool gets the frozen, evaluated args and the guard's signal (caller abort + timeout).
    data.execute(args, { ...data.options, abortSignal: toolCallOptions.signal }),
  );
  const onDeny = options.onDeny ?? 'result';
  const run = async (input: unknown, execOptions: ToolExecutionOptions<unknown>): Promise<unknown> => {
    const context = resolveContext(options.context, {
      toolName: key,
      toolCallId: execOptions.toolCallId,
      toolContext: execOptions.context,
    });
    const callOptions: Parameters<typeof call>[1] = { toolCallId: execOptions.toolCallId };
    if (context !== undefined) callOptions.context = context;
    if (execOptions.abortSignal !== undefined) callOptions.signal = execOptions.abortSignal;
    const outcome = await call(
      input,
      callOptions,
      { execute, options: execOptions },
      findApproval(execOptions),
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
  // A denial is shown to the model as the SDK's own `execution-denied` output.
  (wrapped as { toModelOutput: Tool['toModelOutput'] }).toModelOutput = (toolOutput: {
    toolCallId: string;
    input: unknown;
    output: unknown;
  }) => {
    const denial = asDenial(toolOutput.output);
    if (denial !== undefined) return { type: 'execution-denied', reason: denialMessage(denial) };
    if (toModelOutput !== undefined) return toModelOutput(toolOutput as never);
    const output = toolOutput.output;
    return typeof output === 'string'
      ? { type: 'text', value: output }
      : { type: 'json', value: output === undefined ? null : JSON.parse(JSON.stringify(output)) };
  };
  guardedTools.set(wrapped, { name, context: options.context });
  return wrapped;
}

/**
 * The user's answer to the approval request the `toolApproval` helper raised for this call, if
 * the SDK is now executing it: only then did the SDK validate the approval (and its signature,
 * with `experimental_toolApprovalSecret`).
 */
function findApproval(options: ToolExecutionOptions<unknown>): HostApproval | undefined {
  const messages = options.messages as ModelMessage[] | undefined;
  if (!Array.isArray(messages) || userApprovalCalls.get(messages)?.has(options.toolCallId) !== true)
    return undefined;
  const approvalIds = new Set<string>();
  for (const message of messages) {
    if (message.role !== 'assistant' || typeof message.content === 'string') continue;
    for (const part of message.content) {
      if (
        part.type === 'tool-approval-request' &&
        part.toolCallId === options.toolCallId &&
        part.isAutomatic !== true
      )
        approvalIds.add(part.approvalId);
    }
  }
  const last = messages.at(-1);
  if (last?.role !== 'tool') return undefined;
  for (const part of last.content) {
    if (part.type === 'tool-approval-response' && approvalIds.has(part.approvalId)) {
      const answer: { approved: boolean; approver: string; reason?: string } = {
        approved: part.approved === true,
        approver: 'ai-sdk:user',
      };
      if (typeof part.reason === 'string') answer.reason = part.reason;
      return answer;
    }
  }
  return undefined;
}

function isAsyncGeneratorFunction(fn: unknown): boolean {
  return typeof fn === 'function' && Object.prototype.toString.call(fn) === '[object AsyncGeneratorFunction]';
}

/**
 * An approval provider for the guard that answers `ask` decisions with the approval the user gave
 * in the AI SDK's own approval flow (`toolApproval` → `tool-approval-response`). Calls without one
 * go to `fallback`, or are denied.
 *
 * @example
 * const tg = createGuard({ policy, approver: aiSdkApprover() });
 */
export function aiSdkApprover(options: HostApproverOptions = {}): ApprovalProvider {
  return hostApprover(
    'ai-sdk',
    options,
    'no AI SDK approval for this call (pass toolApproval: toolApproval(tg) to generateText/streamText)',
  );
}
