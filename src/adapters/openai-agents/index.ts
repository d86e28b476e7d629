/**
 * toolgate for the OpenAI Agents SDK (`@openai/agents`, imported as types only): `guardTool` wraps a
 * function tool's `invoke`, the single point the runner calls, and can route toolgate's `ask` to
 * the SDK's own approval interruptions (`agentsApprover`).
 */
import type { FunctionTool, RunContext } from '@openai/agents';
import type { ApprovalProvider } from '../../approval/types.ts';
import type { StandardSchemaV1 } from '../../standard-schema.ts';
import type { ToolContext } from '../../types.ts';
import {
  type AnyGuard,
  denialError,
  denialMessage,
  guardHostTool,
  type HostApproval,
  type HostApproverOptions,
  hostApprover,
  resolveContext,
} from '../_shared/host-call.ts';

export type { HostApproverOptions } from '../_shared/host-call.ts';

/** Options of `guardTool`. */
export interface GuardToolOptions {
  /** The name policies match on. @default the tool's name */
  name?: string;
  /** A Standard Schema for the arguments, checked by the guard (the tool's `parameters` are JSON Schema, which the SDK checks). */
  input?: StandardSchemaV1;
  /** Host identity, fixed or read from the run context (`run(agent, input, { context })`); never from the model's args. */
  context?: ToolContext | ((runContext: RunContext<unknown>) => ToolContext | undefined);
  /**
   * Where toolgate's `ask` goes: `'guard'` (the guard's approver answers inside `invoke`) or
   * `'interruption'` (the tool's `needsApproval` becomes true, the run stops with an interruption,
   * and the app answers with `state.approve()` / `state.reject()`; pair it with `agentsApprover()`).
   * @default 'guard'
   */
  ask?: 'guard' | 'interruption';
  /** `'message'`: a denial is the tool's output, which the model reads. `'throw'`: the guard's error is thrown from `invoke`, which stops the run. @default 'message' */
  onDeny?: 'message' | 'throw';
  risk?: string;
  tags?: readonly string[];
}

type Data = {
  readonly runContext: RunContext<unknown>;
  readonly details: Parameters<FunctionTool['invoke']>[2];
};

/**
 * Returns a copy of an `@openai/agents` function tool whose `invoke` sends every call through the
 * guard (with the call id and the run's abort signal) and runs the original with the evaluated
 * arguments. Every other field is kept. A denial is returned to the model as the tool's output.
 *
 * @example
 * const agent = new Agent({ name: 'support', tools: [guardTool(refund, tg, { name: 'payments.refund' })] });
 */
export function guardTool<T extends FunctionTool<never, never, unknown>>(
  tool: T,
  tg: AnyGuard,
  options: GuardToolOptions = {},
): T {
  const original = tool as unknown as FunctionTool<unknown, never, unknown>;
  const name = options.name ?? original.name;
  const toolOptions: Parameters<typeof guardHostTool>[1] = { name };
  if (options.input !== undefined) toolOptions.input = options.input;
  if (typeof original.description === 'string') toolOptions.description = original.description;
  if (options.risk !== undefined) toolOptions.risk = options.risk;
  if (options.tags !== undefined) toolOptions.tags = options.tags;
  const call = guardHostTool<Data>(tg, toolOptions, (args, toolCallOptions, data) =>
    // The original parses and runs exactly the evaluated args, with the guard's signal.
    original.invoke(data.runContext as never, JSON.stringify(args), {
      ...data.details,
      signal: toolCallOptions.signal,
    }),
  );
  const onDeny = options.onDeny ?? 'message';
  const contextFor = (runContext: RunContext<unknown>) => resolveContext(options.context, runContext);

  const invoke: FunctionTool<unknown, never, unknown>['invoke'] = async (runContext, input, details) => {
    const callId = details?.toolCall?.callId;
    const callOptions: Parameters<typeof call>[1] = {};
    if (typeof callId === 'string') callOptions.toolCallId = callId;
    const context = contextFor(runContext);
    if (context !== undefined) callOptions.context = context;
    if (details?.signal !== undefined) callOptions.signal = details.signal;
    let args: unknown = input;
    try {
      args = JSON.parse(input);
    } catch {
      // Not JSON: the guard denies it as INVALID_ARGS, and records that.
    }
    const approved =
      typeof callId === 'string' ? runContext.isToolApproved({ toolName: original.name, callId }) : undefined;
    const approval: HostApproval | undefined =
      approved === true ? { approved: true, approver: 'openai-agents:user' } : undefined;
    const outcome = await call(args, callOptions, { runContext, details }, approval);
    if (outcome.ok) return outcome.value;
    if (onDeny === 'throw') throw denialError(outcome);
    return denialMessage(outcome.denial);
  };

  const wrapped = { ...original, invoke } as FunctionTool<unknown, never, unknown>;
  if (options.ask === 'interruption') {
    const needsApproval = original.needsApproval;
    wrapped.needsApproval = async (runContext, input, callId) => {
      if (await needsApproval(runContext, input, callId)) return true;
      // A dry run: the SDK may evaluate this more than once (e.g. after restoring a RunState).
      const decision = await tg.check(name, input, contextFor(runContext));
      return decision.type === 'ask';
    };
  }
  return wrapped as unknown as T;
}

/**
 * `guardTool` for each tool of a list (`name` and `input` must then be set per tool, with `guardTool`).
 */
export function guardTools<T extends FunctionTool<never, never, unknown>>(
  tools: readonly T[],
  tg: AnyGuard,
  options: Omit<GuardToolOptions, 'name' | 'input'> = {},
): T[] {
  return tools.map((tool) => guardTool(tool, tg, options));
}

/**
 * An approval provider for the guard that answers `ask` decisions with the approval a human gave
 * through the SDK's interruptions (`guardTool(t, tg, { ask: 'interruption' })`, then
 * `result.state.approve(item)`). Other calls go to `fallback`, or are denied.
 */
export function agentsApprover(options: HostApproverOptions = {}): ApprovalProvider {
  return hostApprover(
    'openai-agents',
    options,
    "no OpenAI Agents approval for this call (use guardTool(t, tg, { ask: 'interruption' }))",
  );
}
