import { ToolMessage } from '@langchain/core/messages';
import type { AgentMiddleware, ToolCallHandler, ToolCallRequest } from 'langchain';
import type { ApprovalProvider } from '../../approval/types.ts';
import { ConfigurationError } from '../../errors.ts';
import type { CallOptions } from '../../guard-types.ts';
import type { JsonObject, ToolContext } from '../../types.ts';
import { denialMessage, detailOf } from '../_shared/denials.ts';
import { type HostApproverOptions, hostApprover } from '../_shared/host-approver.ts';
import {
  type AnyGuard,
  guardHostTool,
  type HostApproval,
  type HostCallResult,
  type HostToolCaller,
  type MissingAnswer,
  resolveContext,
} from '../_shared/host-call.ts';
import { denialError, type OnDenyOption, parseOnDeny } from '../_shared/on-deny.ts';
import { hostToolOptions } from '../_shared/tool-options.ts';
import { parseResume, type ToolgateInterruptInfo } from './answers.ts';

/** Options of `toolgateMiddleware`. */
export interface ToolgateMiddlewareOptions<TContext = unknown> {
  /** Maps a LangChain tool name to the name policies match on. @default the tool's name */
  name?: (toolName: string) => string;
  /**
   * Host identity, fixed or read from the request (e.g. `request.runtime.context`, typed as
   * `TContext`: `toolgateMiddleware<AppContext>(tg, …)`); never from the model's args.
   */
  context?:
    | ToolContext
    | ((request: ToolCallRequest<Record<string, unknown>, TContext>) => ToolContext | undefined);
  /**
   * Where toolgate's `ask` goes: `'guard'` (the guard's own approver answers while the tool call
   * waits) or `'interrupt'` (LangGraph `interrupt()` with a human-in-the-loop payload; the app
   * resumes with `new Command({ resume: respondToApproval(interrupt, answer) })`; needs a
   * checkpointer and `langchainApprover()` on the guard). @default 'guard'
   */
  ask?: 'guard' | 'interrupt';
  /**
   * `'return'`: a denial is an error `ToolMessage` the model reads, and the run goes on.
   * `'throw'`: the guard's `ToolDeniedError` is thrown, which ends the run. `'message'` is a
   * deprecated spelling of `'return'`. @default 'return'
   */
  onDeny?: OnDenyOption;
}

type Data = { readonly request: ToolCallRequest; readonly handler: ToolCallHandler };

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
export function toolgateMiddleware<TContext = unknown>(
  tg: AnyGuard,
  options: ToolgateMiddlewareOptions<TContext> = {},
): AgentMiddleware {
  const onDeny = parseOnDeny(options.onDeny, 'toolgateMiddleware');
  const ask = options.ask ?? 'guard';
  if (ask !== 'guard' && ask !== 'interrupt')
    throw new ConfigurationError(`toolgateMiddleware: ask must be 'guard' or 'interrupt'`);
  const contextOption = options.context as
    | ToolContext
    | ((request: ToolCallRequest) => ToolContext | undefined)
    | undefined;
  const missing: MissingAnswer = {
    code: 'NO_FRAMEWORK_ANSWER',
    message:
      ask === 'guard'
        ? "a tool call asked for approval with toolgateMiddleware(tg) (ask: 'guard'), but the guard's approver is langchainApprover(), which only relays decisions given through toolgate's interrupt: use toolgateMiddleware(tg, { ask: 'interrupt' }) or give langchainApprover() a fallback approver"
        : "a tool call asked for approval that toolgate's interrupt did not collect: give langchainApprover() a fallback approver",
  };
  // Keyed by the tool and the name together: one tool object reached under two names is guarded
  // under each name (a cache by tool alone kept the first name, so the second name's rules never
  // applied).
  const byTool = new WeakMap<object, Map<string, HostToolCaller<Data>>>();
  const byName = new Map<string, HostToolCaller<Data>>();
  const callerFor = (name: string, request: ToolCallRequest): HostToolCaller<Data> => {
    const tool = request.tool as { schema?: unknown; description?: unknown } | undefined;
    let named = byName;
    if (tool !== undefined) {
      let forTool = byTool.get(tool);
      if (forTool === undefined) {
        forTool = new Map();
        byTool.set(tool, forTool);
      }
      named = forTool;
    }
    const cached = named.get(name);
    if (cached !== undefined) return cached;
    const toolOptions = hostToolOptions({ name, schema: tool?.schema, description: tool?.description });
    const caller = guardHostTool<Data>(tg, 'langchain', toolOptions, (args, _toolCallOptions, data) =>
      data.handler({ ...data.request, toolCall: { ...data.request.toolCall, args: args as JsonObject } }),
    );
    named.set(name, caller);
    return caller;
  };

  const wrapToolCall = async (request: ToolCallRequest, handler: ToolCallHandler) => {
    const { toolCall } = request;
    const toolName = String(toolCall.name);
    const name = options.name === undefined ? toolName : options.name(toolName);
    const toolCallId = typeof toolCall.id === 'string' ? toolCall.id : '';
    const errorMessage = (content: string) =>
      new ToolMessage({ tool_call_id: toolCallId, name: toolName, content, status: 'error' });
    const context = resolveContext(contextOption, request);
    let caller: HostToolCaller<Data>;
    try {
      // Registers the tool with the guard, so check() below knows it.
      caller = callerFor(name, request);
    } catch (error) {
      // A name the guard refuses (control or invisible characters, …): denied, the run goes on.
      return errorMessage(`toolgate denied ${JSON.stringify(name)}: ${String(error)}`);
    }
    let approval: HostApproval | undefined;
    if (ask === 'interrupt') {
      const decision = await tg.check(name, toolCall.args, context);
      if (decision.type === 'ask') {
        const interrupt = request.runtime?.interrupt;
        if (typeof interrupt !== 'function')
          return errorMessage(
            `toolgate: ${name} needs approval, but this agent cannot interrupt (no checkpointer)`,
          );
        // Throws LangGraph's interrupt on the first pass; returns the resume value on the second.
        const info: ToolgateInterruptInfo = { toolCallId, tool: name };
        approval = parseResume(
          interrupt({
            actionRequests: [
              { name: toolName, args: toolCall.args, description: `toolgate: ${decision.reason}` },
            ],
            reviewConfigs: [{ actionName: toolName, allowedDecisions: ['approve', 'edit', 'reject'] }],
            toolgate: info,
          }),
          toolCallId,
        );
      }
    }
    const callOptions: CallOptions = {};
    if (toolCallId !== '') callOptions.toolCallId = toolCallId;
    if (context !== undefined) callOptions.context = context;
    const signal = request.runtime?.signal;
    if (signal !== undefined) callOptions.signal = signal;
    let outcome: HostCallResult;
    try {
      outcome = await caller(toolCall.args, callOptions, { request, handler }, { approval, missing });
    } catch (error) {
      // LangGraph control flow (interrupts, commands) must pass; any other tool error is shown to
      // the model, as LangChain does when no middleware wraps tool calls.
      if (isBubbleUp(error)) throw error;
      return errorMessage(`${String(error)}\n Please fix your mistakes.`);
    }
    if (outcome.ok) return outcome.value as ToolMessage;
    if (onDeny === 'throw') throw denialError(outcome);
    return errorMessage(denialMessage(outcome.denial, detailOf(tg)));
  };

  return {
    [MIDDLEWARE_BRAND]: true,
    name: 'toolgate',
    wrapToolCall,
  } as unknown as AgentMiddleware;
}

function isBubbleUp(error: unknown): boolean {
  return (
    typeof error === 'object' && error !== null && (error as { is_bubble_up?: unknown }).is_bubble_up === true
  );
}

/**
 * An approval provider for the guard that answers `ask` decisions with the decision a person gave
 * through the middleware's LangGraph interrupt (`ask: 'interrupt'`, resumed with
 * `respondToApproval(interrupt, answer)`), recorded with who gave it. Other calls go to
 * `fallback`, or are denied and the wiring mistake is reported once.
 */
export function langchainApprover(options: HostApproverOptions = {}): ApprovalProvider {
  return hostApprover('langchain', options, {
    code: 'NO_FRAMEWORK_ANSWER',
    message:
      "langchainApprover() was asked to approve a call that did not come through toolgate's interrupt (toolgateMiddleware(tg, { ask: 'interrupt' })): give it a fallback approver for such calls",
  });
}
