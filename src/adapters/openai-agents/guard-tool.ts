import type { FunctionTool, RunContext } from '@openai/agents';
import { guardRecorder } from '../../_internal/guard-records.ts';
import { ConfigurationError } from '../../errors.ts';
import type { CallOptions } from '../../guard-types.ts';
import type { StandardSchemaV1 } from '../../standard-schema.ts';
import type { ToolContext } from '../../types.ts';
import { denialMessage, detailOf } from '../_shared/denials.ts';
import {
  type AnyGuard,
  guardHostTool,
  type MissingAnswer,
  reportNoApprover,
  resolveContext,
} from '../_shared/host-call.ts';
import { denialError, type OnDenyOption, parseOnDeny } from '../_shared/on-deny.ts';
import { hostToolOptions } from '../_shared/tool-options.ts';
import { findApproval, watchInterruption } from './answers.ts';
import { EXECUTION, type Execution, type GuardedToolInfo, guardedTools, type InvokeData } from './shared.ts';

/** The context type of a function tool (`tool<…, Context>()`), `unknown` when it has none. */
export type AgentsContextOf<T> = T extends {
  invoke: (runContext: RunContext<infer CONTEXT>, ...rest: never[]) => unknown;
}
  ? CONTEXT
  : unknown;

/** Options of `guardTool`. */
export interface GuardToolOptions<TContext = unknown> {
  /** The name policies match on. @default the tool's name */
  name?: string;
  /** A Standard Schema for the arguments, checked by the guard (the tool's `parameters` are JSON Schema, which the SDK checks). */
  input?: StandardSchemaV1;
  /**
   * Host identity, fixed or read from the run context (`run(agent, input, { context })`, typed as
   * the tool's or agent's context); never from the model's args.
   */
  context?: ToolContext | ((runContext: RunContext<TContext>) => ToolContext | undefined);
  /**
   * Where toolgate's `ask` goes: `'guard'` (the guard's approver answers inside `invoke`) or
   * `'interruption'` (the tool's `needsApproval` becomes true, the run stops with an interruption,
   * and the app answers with `respondToApproval(result.state, item, answer)`; pair it with
   * `agentsApprover()`). @default 'guard'
   */
  ask?: 'guard' | 'interruption';
  /**
   * `'return'`: a denial is the tool's output, which the model reads. `'throw'`: `invoke` rejects
   * with the guard's `ToolDeniedError`, which stops the run (`ToolCallError`). `'message'` is a
   * deprecated spelling of `'return'`. @default 'return'
   */
  onDeny?: OnDenyOption;
  risk?: string;
  tags?: readonly string[];
}

/**
 * Returns a copy of an `@openai/agents` function tool whose `invoke` sends every call through the
 * guard (with the call id and the run's abort signal) and runs the original with the evaluated
 * arguments. Every other field is kept. A denial is returned to the model as the tool's output.
 * `context` callbacks are typed with the tool's context type (or annotate the parameter, e.g.
 * `(runContext: RunContext<AppContext>) => …`).
 *
 * @example
 * const agent = new Agent({ name: 'support', tools: [guardTool(refund, tg, { name: 'payments.refund' })] });
 */
export function guardTool<T extends FunctionTool<never, never, unknown>, TContext = AgentsContextOf<T>>(
  tool: T,
  tg: AnyGuard,
  options: GuardToolOptions<TContext> = {},
): T {
  return wrapFunctionTool(tool, tg, options as GuardToolOptions<unknown>, false);
}

/**
 * What the SDK answered for a call whose `execute` failed (or never ran), when the tool reports
 * its runs (`guardedTool`): the guard records the failure, and the model reads this answer.
 */
const sdkAnswers = new WeakMap<InvokeData, unknown>();

/**
 * `guardTool`'s work. With `watchExecution` (tools built by `guardedTool`, whose `execute` reports
 * each run in the call's details under `EXECUTION`), a failure the SDK turned into the tool's text
 * output is recorded as the call's error, and the model still reads the SDK's text.
 */
export function wrapFunctionTool<T extends FunctionTool<never, never, unknown>>(
  tool: T,
  tg: AnyGuard,
  options: GuardToolOptions<unknown>,
  watchExecution: boolean,
): T {
  const original = tool as unknown as FunctionTool<unknown, never, unknown>;
  if (typeof original?.invoke !== 'function')
    throw new ConfigurationError('guardTool takes an @openai/agents function tool');
  const onDeny = parseOnDeny(options.onDeny, 'guardTool');
  const ask = options.ask ?? 'guard';
  if (ask !== 'guard' && ask !== 'interruption')
    throw new ConfigurationError(`guardTool: ask must be 'guard' or 'interruption'`);
  const name = options.name ?? original.name;
  const toolOptions = hostToolOptions({
    name,
    description: original.description,
    risk: options.risk,
    tags: options.tags,
  });
  // Set as given: the guard refuses an `input` that is not a Standard Schema, at construction.
  if (options.input !== undefined) toolOptions.input = options.input;
  const call = guardHostTool<InvokeData | undefined>(
    tg,
    'openai-agents',
    toolOptions,
    (args, toolCallOptions, data) => {
      if (data === undefined) throw new Error(`toolgate: ${name} has no OpenAI Agents call to run`);
      // The original parses and runs exactly the evaluated args, with the guard's signal.
      const details = { ...data.details, signal: toolCallOptions.signal };
      if (!watchExecution) return original.invoke(data.runContext as never, JSON.stringify(args), details);
      const execution: Execution = { started: false, settled: false, failed: false, error: undefined };
      (details as Record<symbol, unknown>)[EXECUTION] = execution;
      return Promise.resolve(original.invoke(data.runContext as never, JSON.stringify(args), details)).then(
        (value) => {
          if (execution.settled && !execution.failed) return value;
          // The SDK answered a failure with its error function's text: the guard records the
          // failure as the call's error, and the model reads that text (see the guarded invoke).
          sdkAnswers.set(data, value);
          if (execution.failed) throw execution.error;
          throw new Error(
            execution.started
              ? `the OpenAI Agents SDK answered before ${name} finished: its timeoutMs passed`
              : `the OpenAI Agents SDK did not run ${name}: it refused the arguments`,
          );
        },
      );
    },
  );
  const contextOption = options.context as
    | ToolContext
    | ((runContext: RunContext<unknown>) => ToolContext | undefined)
    | undefined;
  const info: GuardedToolInfo = {
    name,
    toolName: original.name,
    tg,
    contextFor: (runContext) => resolveContext(contextOption, runContext),
    call,
  };
  const missing: MissingAnswer = {
    code: 'NO_FRAMEWORK_ANSWER',
    message:
      ask === 'guard'
        ? `${original.name} asked for approval with ask: 'guard', but the guard's approver is agentsApprover(), which only relays answers given in the SDK's interruptions: use guardTool(…, { ask: 'interruption' }) or give agentsApprover() a fallback approver`
        : `${original.name} asked for approval that the SDK's interruption did not collect: give agentsApprover() a fallback approver`,
  };

  const invoke: FunctionTool<unknown, never, unknown>['invoke'] = async (runContext, input, details) => {
    const callId = details?.toolCall?.callId;
    const callOptions: CallOptions = {};
    if (typeof callId === 'string') callOptions.toolCallId = callId;
    const context = info.contextFor(runContext);
    if (context !== undefined) callOptions.context = context;
    if (details?.signal !== undefined) callOptions.signal = details.signal;
    let args: unknown = input;
    try {
      args = JSON.parse(input);
    } catch {
      // Not JSON: the guard denies it as INVALID_ARGS, and records that.
    }
    const approval = findApproval(info, runContext, typeof callId === 'string' ? callId : undefined);
    const data: InvokeData = { runContext, details };
    let outcome: Awaited<ReturnType<typeof call>>;
    try {
      outcome = await call(args, callOptions, data, { approval, missing });
    } catch (error) {
      if (!sdkAnswers.has(data)) throw error;
      // Recorded as the call's error; the model reads what the SDK made of it, as without toolgate
      // (scrubbed of the guard's secrets, as a result is).
      const answer = sdkAnswers.get(data);
      const recorder = guardRecorder(tg);
      return recorder === undefined ? answer : recorder.shown(answer);
    }
    if (outcome.ok) return outcome.value;
    if (onDeny === 'throw') throw denialError(outcome);
    return denialMessage(outcome.denial, detailOf(tg));
  };

  const wrapped = { ...original, invoke } as FunctionTool<unknown, never, unknown>;
  if (ask === 'interruption') {
    const needsApproval = original.needsApproval;
    wrapped.needsApproval = async (runContext, input, callId) => {
      // A dry run: the SDK may evaluate this more than once (e.g. after restoring a RunState).
      let asks = await needsApproval(runContext, input, callId);
      if (!asks) {
        const decision = await tg.check(name, input, info.contextFor(runContext));
        asks = decision.type === 'ask';
        // No interruption a person's answer could not settle: the guarded invoke denies and records.
        if (decision.type === 'deny' && decision.code === 'NO_APPROVER')
          reportNoApprover(tg, 'openai-agents', name, typeof callId === 'string' ? callId : undefined);
      }
      if (asks && typeof callId === 'string') watchInterruption(runContext, callId, info, input);
      return asks;
    };
  }
  guardedTools.set(wrapped, info);
  return wrapped as unknown as T;
}

/**
 * `guardTool` for each tool of a list (`name` and `input` must then be set per tool, with `guardTool`).
 */
export function guardTools<T extends FunctionTool<never, never, unknown>, TContext = AgentsContextOf<T>>(
  tools: readonly T[],
  tg: AnyGuard,
  options: Omit<GuardToolOptions<TContext>, 'name' | 'input'> = {},
): T[] {
  return tools.map((tool) => guardTool<T, TContext>(tool, tg, options));
}
