import {
  type RunContext,
  type ToolInputParameters,
  type ToolOptions,
  type ToolOutputSchema,
  tool,
  type UnknownContext,
} from '@openai/agents';
import { ConfigurationError } from '../../errors.ts';
import type { AnyGuard } from '../_shared/host-call.ts';
import { type GuardToolOptions, wrapFunctionTool } from './guard-tool.ts';
import { EXECUTION, type Execution } from './shared.ts';

type Execute = (input: unknown, runContext?: RunContext<unknown>, details?: object) => unknown;

/**
 * Builds a function tool with the SDK's `tool(toolOptions)` and guards it as `guardTool` does,
 * seeing what `guardTool` cannot: the SDK's `tool()` catches what `execute` throws inside its own
 * `invoke` and answers the model with its `errorFunction`'s text, so a guarded copy of a finished
 * tool records a failed call as `result ok`. A tool built here tells the guard: the call is
 * recorded as an `error` result (the error redacted, as every recorded error is), and the model
 * still reads the SDK's answer (its default text, or your `errorFunction`'s, scrubbed of the
 * guard's secrets); an `errorFunction: null` (or an `outputSchema` without one) throws, as the SDK
 * does. Arguments the SDK's own parser refuses are recorded as an error too.
 *
 * @example
 * const refund = guardedTool(
 *   { name: 'refund', description: 'Refund an order', parameters: z.object({ orderId: z.string() }), execute: refundOrder },
 *   tg,
 *   { name: 'payments.refund' },
 * );
 */
export function guardedTool<
  TParameters extends ToolInputParameters = undefined,
  Context = UnknownContext,
  Result = string,
  TOutputSchema extends ToolOutputSchema | undefined = undefined,
>(
  toolOptions: ToolOptions<TParameters, Context, TOutputSchema>,
  tg: AnyGuard,
  options: GuardToolOptions<Context> = {},
): ReturnType<typeof tool<TParameters, Context, Result, TOutputSchema>> {
  const execute = (toolOptions as { execute?: unknown } | undefined)?.execute;
  if (typeof execute !== 'function')
    throw new ConfigurationError(
      'guardedTool takes the options of the SDK’s tool(), with an execute function',
    );
  const run = execute as Execute;
  // Each run reports to the call that made it (through the details the guard passes, which the
  // SDK hands to `execute`); a run without them (none happen: only the guarded invoke calls this
  // tool) just runs.
  const watched = (input: unknown, runContext?: RunContext<unknown>, details?: object): unknown => {
    const execution = (details as Record<symbol, Execution | undefined> | undefined)?.[EXECUTION];
    if (execution === undefined) return run(input, runContext, details);
    execution.started = true;
    const failed = (error: unknown): never => {
      execution.failed = true;
      execution.error = error;
      throw error;
    };
    let value: unknown;
    try {
      value = run(input, runContext, details);
    } catch (error) {
      failed(error);
    }
    return value instanceof Promise ? value.then(undefined, failed) : value;
  };
  const built = tool({ ...toolOptions, execute: watched } as ToolOptions<
    TParameters,
    Context,
    TOutputSchema
  >);
  return wrapFunctionTool(built, tg, options as GuardToolOptions<unknown>, true) as ReturnType<
    typeof tool<TParameters, Context, Result, TOutputSchema>
  >;
}
