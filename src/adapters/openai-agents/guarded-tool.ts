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
type Check = (value: unknown) => { readonly success: boolean };

/** The `safeParse` of a zod object schema (the only output schema the SDK checks at run time). */
function zodCheck(schema: unknown): Check | undefined {
  if (typeof schema !== 'object' || schema === null) return undefined;
  const safeParse = (schema as { safeParse?: unknown }).safeParse;
  if (typeof safeParse !== 'function') return undefined;
  return (value) => (safeParse as Check).call(schema, value);
}

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
  const outputSchema = (toolOptions as { outputSchema?: unknown }).outputSchema;
  const outputCheck = zodCheck(outputSchema);
  // Each run reports to the call that made it (through the details the guard passes, which the
  // SDK hands to `execute`); a run without them (none happen: only the guarded invoke calls this
  // tool) just runs.
  const watched = (input: unknown, runContext?: RunContext<unknown>, details?: object): unknown => {
    const execution = (details as Record<symbol, Execution | undefined> | undefined)?.[EXECUTION];
    if (execution === undefined) return run(input, runContext, details);
    execution.started = true;
    const failed = (error: unknown): never => {
      execution.settled = true;
      execution.failed = true;
      execution.error = error;
      throw error;
    };
    const returned = (output: unknown): unknown => {
      execution.settled = true;
      // The SDK checks the output against a zod `outputSchema` after this returns, and answers a
      // mismatch with its error function: the same check here tells the guard.
      const checked = outputCheck?.(output);
      if (checked !== undefined && !checked.success) {
        execution.failed = true;
        execution.error = new Error(`${String(toolOptions.name)} returned output its outputSchema refuses`);
      }
      return output;
    };
    let value: unknown;
    try {
      value = run(input, runContext, details);
    } catch (error) {
      failed(error);
    }
    return value instanceof Promise ? value.then(returned, failed) : returned(value);
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
