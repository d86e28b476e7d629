import { ToolMessage } from '@langchain/core/messages';
import type { AgentMiddleware, ToolCallHandler, ToolCallRequest } from 'langchain';
import type { ApprovalProvider } from '../../approval/types.ts';
import type { StandardSchemaV1 } from '../../standard-schema.ts';
import type { JsonObject, ToolContext } from '../../types.ts';
import {
  type AnyGuard,
  denialMessage,
  guardHostTool,
  type HostApproval,
  type HostApproverOptions,
  type HostCallResult,
  hostApprover,
  resolveContext,
} from '../_shared/host-call.ts';

/** Options of `toolgateMiddleware`. */
export interface ToolgateMiddlewareOptions {
  /** Maps a LangChain tool name to the name policies match on. @default the tool's name */
  name?: (toolName: string) => string;
  /** Host identity, fixed or read from the request (e.g. `request.runtime.context`); never from the model's args. */
  context?: ToolContext | ((request: ToolCallRequest) => ToolContext | undefined);
  /**
   * Where toolgate's `ask` goes: `'guard'` (the guard's own approver answers while the tool call
   * waits) or `'interrupt'` (LangGraph `interrupt()` with a human-in-the-loop payload; the app resumes
   * with `new Command({ resume: { decisions: [{ type: 'approve' | 'edit' | 'reject' }] } })`; needs a
   * checkpointer and `langchainApprover()` on the guard). @default 'guard'
   */
  ask?: 'guard' | 'interrupt';
}

type Data = { readonly request: ToolCallRequest; readonly handler: ToolCallHandler };
type Caller = (
  args: unknown,
  options: object,
  data: Data,
  approval?: HostApproval,
) => Promise<HostCallResult>;

const MIDDLEWARE_BRAND = Symbol.for('AgentMiddleware');

/**
 * A LangChain v1 agent middleware (`createAgent({ middleware: [toolgateMiddleware(tg)] })`) that
 * sends every tool call through the guard in `wrapToolCall`, including tools added by other
 * middleware. Denials and tool errors come back as error `ToolMessage`s, so the run goes on and
 * the model reads why. Put it last in the middleware list: the innermost layer sees the args
 * that actually run. `langchain` is imported as types only.
 *
 * @example
 * const agent = createAgent({ model, tools, middleware: [toolgateMiddleware(tg)] });
 */
export function toolgateMiddleware(tg: AnyGuard, options: ToolgateMiddlewareOptions = {}): AgentMiddleware {
  const byTool = new WeakMap<object, Caller>();
  const byName = new Map<string, Caller>();
  const callerFor = (name: string, request: ToolCallRequest): Caller => {
    const tool = request.tool as { schema?: unknown; description?: unknown } | undefined;
    const cached = tool === undefined ? byName.get(name) : byTool.get(tool);
    if (cached !== undefined) return cached;
    const toolOptions: Parameters<typeof guardHostTool>[1] = { name };
    const schema = tool?.schema as Partial<StandardSchemaV1> | undefined;
    if (typeof schema?.['~standard']?.validate === 'function') toolOptions.input = schema as StandardSchemaV1;
    if (typeof tool?.description === 'string') toolOptions.description = tool.description;
    const caller = guardHostTool<Data>(tg, toolOptions, (args, _toolCallOptions, data) =>
      data.handler({ ...data.request, toolCall: { ...data.request.toolCall, args: args as JsonObject } }),
    ) as Caller;
    if (tool === undefined) byName.set(name, caller);
    else byTool.set(tool, caller);
    return caller;
  };

  const wrapToolCall = async (request: ToolCallRequest, handler: ToolCallHandler) => {
    const { toolCall } = request;
    const toolName = String(toolCall.name);
    const name = options.name === undefined ? toolName : options.name(toolName);
    const toolCallId = typeof toolCall.id === 'string' ? toolCall.id : '';
    const errorMessage = (content: string) =>
      new ToolMessage({ tool_call_id: toolCallId, name: toolName, content, status: 'error' });
    const context = resolveContext(options.context, request);
    let caller: Caller;
    try {
      // Registers the tool with the guard, so check() below knows it.
      caller = callerFor(name, request);
    } catch (error) {
      // A name the guard refuses (control or invisible characters, …): denied, the run goes on.
      return errorMessage(`toolgate denied ${JSON.stringify(name)}: ${String(error)}`);
    }
    let approval: HostApproval | undefined;
    if (options.ask === 'interrupt') {
      const decision = await tg.check(name, toolCall.args, context);
      if (decision.type === 'ask') {
        const interrupt = request.runtime?.interrupt;
        if (typeof interrupt !== 'function')
          return errorMessage(
            `toolgate: ${name} needs approval, but this agent cannot interrupt (no checkpointer)`,
          );
        // Throws LangGraph's interrupt on the first pass; returns the resume value on the second.
        approval = parseResume(
          interrupt({
            actionRequests: [
              { name: toolName, args: toolCall.args, description: `toolgate: ${decision.reason}` },
            ],
            reviewConfigs: [{ actionName: toolName, allowedDecisions: ['approve', 'edit', 'reject'] }],
          }),
        );
      }
    }
    const callOptions: { context?: ToolContext; signal?: AbortSignal; toolCallId?: string } = {};
    if (toolCallId !== '') callOptions.toolCallId = toolCallId;
    if (context !== undefined) callOptions.context = context;
    const signal = request.runtime?.signal;
    if (signal !== undefined) callOptions.signal = signal;
    try {
      const outcome = await caller(toolCall.args, callOptions, { request, handler }, approval);
      return outcome.ok ? (outcome.value as ToolMessage) : errorMessage(denialMessage(outcome.denial));
    } catch (error) {
      // LangGraph control flow (interrupts, commands) must pass; any other tool error is shown to
      // the model, as LangChain does when no middleware wraps tool calls.
      if (isBubbleUp(error)) throw error;
      return errorMessage(`${String(error)}\n Please fix your mistakes.`);
    }
  };

  return {
    [MIDDLEWARE_BRAND]: true,
    name: 'toolgate',
    wrapToolCall,
  } as unknown as AgentMiddleware;
}

/** Reads a human-in-the-loop resume value; anything unexpected is a rejection (fail closed). */
function parseResume(value: unknown): HostApproval {
  const approver = 'langchain:user';
  const decisions = (value as { decisions?: unknown } | null)?.decisions;
  const decision = (Array.isArray(decisions) ? decisions[0] : value) as
    | Record<string, unknown>
    | null
    | undefined;
  const type = decision?.type;
  if (type === 'approve') return { approved: true, approver };
  if (type === 'edit') {
    const args = (decision?.editedAction as { args?: unknown } | undefined)?.args;
    if (typeof args === 'object' && args !== null && !Array.isArray(args))
      return { approved: true, approver, args: args as JsonObject };
    return { approved: false, approver, reason: 'the edit carried no arguments' };
  }
  if (type === 'reject') {
    const message = decision?.message;
    return {
      approved: false,
      approver,
      reason: typeof message === 'string' ? message : 'the user rejected the call',
    };
  }
  return { approved: false, approver, reason: 'the resume value is not an approve, edit or reject decision' };
}

function isBubbleUp(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { is_bubble_up?: unknown }).is_bubble_up === true
  );
}

/**
 * An approval provider for the guard that answers `ask` decisions with the decision a human gave
 * through the middleware's LangGraph interrupt (`ask: 'interrupt'`). Other calls go to `fallback`,
 * or are denied.
 */
export function langchainApprover(options: HostApproverOptions = {}): ApprovalProvider {
  return hostApprover(
    'langchain',
    options,
    "no LangGraph approval for this call (use toolgateMiddleware(tg, { ask: 'interrupt' }))",
  );
}
