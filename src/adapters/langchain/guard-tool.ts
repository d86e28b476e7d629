import { ToolMessage } from '@langchain/core/messages';
import {
  DynamicStructuredTool,
  type StructuredToolInterface,
  type ToolRunnableConfig,
} from '@langchain/core/tools';
import { ConfigurationError } from '../../errors.ts';
import type { CallOptions } from '../../guard-types.ts';
import type { ToolContext } from '../../types.ts';
import { denialMessage, detailOf } from '../_shared/denials.ts';
import { type AnyGuard, guardHostTool, type MissingAnswer, resolveContext } from '../_shared/host-call.ts';
import { denialError, type OnDenyOption, parseOnDeny } from '../_shared/on-deny.ts';
import { hostToolOptions } from '../_shared/tool-options.ts';

/** Options of `guardTool` / `guardTools`. */
export interface GuardToolOptions<TContext = unknown> {
  /** The name policies match on: a string, or a function of the LangChain tool name. @default the tool's name */
  name?: string | ((toolName: string) => string);
  /**
   * Host identity (agent, principal, …), fixed or read from the run's config (`config.context`,
   * typed as `TContext`: `guardTool<AppContext>(…)`); merged over `tg.withContext`.
   */
  context?:
    | ToolContext
    | ((config: ToolRunnableConfig<Record<string, unknown>, TContext>) => ToolContext | undefined);
  /**
   * `'return'`: a denied call returns an error `ToolMessage` the model reads (or the denial text
   * when the tool was invoked without a tool call). `'throw'`: the guard's `ToolDeniedError` is
   * thrown. `'message'` is a deprecated spelling of `'return'`. @default 'return'
   */
  onDeny?: OnDenyOption;
  risk?: string;
  tags?: readonly string[];
}

const MISSING: MissingAnswer = {
  code: 'NO_FRAMEWORK_ANSWER',
  message:
    "a tool wrapped with guardTool asked for approval, but the guard's approver is langchainApprover(), which only relays decisions given through toolgateMiddleware(tg, { ask: 'interrupt' }): use the middleware, or give langchainApprover() a fallback approver",
};

type Data = {
  readonly config: ToolRunnableConfig | undefined;
  readonly runManager: { getChild(): unknown } | undefined;
};

/**
 * Returns a LangChain tool with the same name, description and schema whose every call goes
 * through the guard (with the tool call id and the run's abort signal) before the original tool
 * runs with the evaluated arguments. A denial becomes an error `ToolMessage` the model can read.
 * Builds a `DynamicStructuredTool`, so `@langchain/core` is imported at runtime by this entry point.
 *
 * @example
 * const refund = guardTool(refundTool, tg, { name: 'payments.refund' });
 * const agent = createAgent({ model, tools: [refund] });
 */
export function guardTool<TContext = unknown>(
  tool: StructuredToolInterface,
  tg: AnyGuard,
  options: GuardToolOptions<TContext> = {},
): DynamicStructuredTool {
  const onDeny = parseOnDeny(options.onDeny, 'guardTool');
  const contextOption = options.context as
    | ToolContext
    | ((config: ToolRunnableConfig) => ToolContext | undefined)
    | undefined;
  const name = typeof options.name === 'function' ? options.name(tool.name) : (options.name ?? tool.name);
  const toolOptions = hostToolOptions({
    name,
    schema: tool.schema,
    description: tool.description,
    risk: options.risk,
    tags: options.tags,
  });
  const call = guardHostTool<Data>(tg, 'langchain', toolOptions, (args, toolCallOptions, data) =>
    // The original tool runs with the frozen, evaluated args and the guard's signal.
    // The original's run is traced as a child of the guarded tool's run.
    tool.invoke(args as never, {
      ...data.config,
      ...(data.runManager !== undefined ? { callbacks: data.runManager.getChild() as never } : {}),
      signal: toolCallOptions.signal,
    }),
  );
  const source = tool as StructuredToolInterface & {
    returnDirect?: boolean;
    metadata?: Record<string, unknown>;
    tags?: string[];
    verboseParsingErrors?: boolean;
  };
  const fields: ConstructorParameters<typeof DynamicStructuredTool>[0] = {
    name: tool.name,
    description: tool.description,
    schema: tool.schema,
    func: async (input: unknown, runManager?: { getChild(): unknown }, config?: ToolRunnableConfig) => {
      const toolCallId = config?.toolCall?.id;
      const context = config === undefined ? undefined : resolveContext(contextOption, config);
      const callOptions: CallOptions = {};
      if (typeof toolCallId === 'string') callOptions.toolCallId = toolCallId;
      if (context !== undefined) callOptions.context = context;
      if (config?.signal !== undefined) callOptions.signal = config.signal;
      const outcome = await call(input, callOptions, { config, runManager }, { missing: MISSING });
      if (outcome.ok) return outcome.value;
      if (onDeny === 'throw') throw denialError(outcome);
      const content = denialMessage(outcome.denial, detailOf(tg));
      return typeof toolCallId === 'string'
        ? new ToolMessage({ tool_call_id: toolCallId, name: tool.name, content, status: 'error' })
        : content;
    },
  };
  if (source.returnDirect !== undefined) fields.returnDirect = source.returnDirect;
  if (source.metadata !== undefined) fields.metadata = source.metadata;
  if (source.tags !== undefined) fields.tags = source.tags;
  if (source.verboseParsingErrors !== undefined) fields.verboseParsingErrors = source.verboseParsingErrors;
  if (tool.extras !== undefined) fields.extras = tool.extras;
  return new DynamicStructuredTool(fields) as unknown as DynamicStructuredTool;
}

/**
 * `guardTool` for each tool of a list.
 *
 * @example
 * const agent = createAgent({ model, tools: guardTools([search, refund], tg) });
 */
export function guardTools<TContext = unknown>(
  tools: readonly StructuredToolInterface[],
  tg: AnyGuard,
  options: GuardToolOptions<TContext> = {},
): DynamicStructuredTool[] {
  if (typeof options.name === 'string')
    throw new ConfigurationError('guardTools takes a name function, not one name for every tool');
  return tools.map((tool) => guardTool<TContext>(tool, tg, options));
}
