import { performance } from 'node:perf_hooks';
import { uniqueHolder } from '../_internal/ids.ts';
import type { CallOptions } from '../guard-types.ts';
import { Call, type StepResult, type ToolDefinition } from './call.ts';
import type { GuardCore } from './guard-core.ts';

// The synchronous-first driver of the pipeline (src/core/pipeline.ts), and the only place that
// branches on "a value or a promise of it". The steps run synchronously as far as they can (a
// synchronous schema, engine and store): every `await` would be a tick on the hot path
// (docs/performance.md, "The guarded call"). A step that had to wait hands back a promise, and
// the driver goes on with the next step when it settles.

/**
 * Runs the steps of a list in order from step `next` on (numbered from 0), until one stops the
 * call or has to wait (then `call.resumeAt` is the step after it). `undefined` when every step
 * went on. A step is a function `(call, core)` that reads and updates the call and gives back
 * `undefined` to go on, or the deny (or interruption) that stops the call there; a promise of
 * that when it has to wait.
 */
export type Steps = ((call: Call, core: GuardCore, next: number) => StepResult | Promise<StepResult>) & {
  /** The deny (or interruption) of a call whose step `call.at` threw or rejected with `error`. */
  readonly failed: (call: Call, error: unknown) => StepResult;
};

/** For a step list: marks step `index` as the one running (for `Steps.failed`); gives back `call`. */
export function at(call: Call, index: number): Call {
  call.at = index;
  return call;
}

/** What runs after the last step, or at the step that stopped the call (`stop`). */
export type End<R> = (call: Call, core: GuardCore, stop: StepResult) => R;

/** Runs `steps` from step `next` on, then `end`. Synchronous until a step has to wait. */
export function drive<R>(
  steps: Steps,
  call: Call,
  core: GuardCore,
  end: End<R>,
  next = 0,
): R | Promise<Awaited<R>> {
  let result: StepResult | Promise<StepResult>;
  try {
    result = steps(call, core, next);
  } catch (error) {
    // A step that throws fails closed: denied, recorded (`Steps.failed`), never a bare rejection.
    return end(call, core, steps.failed(call, error));
  }
  if (result instanceof Promise) {
    call.waited = true;
    return result.then(
      (stop: StepResult) =>
        stop === undefined ? drive(steps, call, core, end, call.resumeAt) : end(call, core, stop),
      (error: unknown) => end(call, core, steps.failed(call, error)),
    ) as Promise<Awaited<R>>;
  }
  return end(call, core, result);
}

/** For a step list: step `index` gave `result`; a promise resumes the list at the step after it. */
export function stopped(
  call: Call,
  index: number,
  result: StepResult | Promise<StepResult>,
): StepResult | Promise<StepResult> {
  call.resumeAt = index + 1;
  return result;
}

/**
 * Continues a step with `value` once it is there: `next` runs at once for a value, or when a
 * promise settles. For steps that call something that may wait (a schema, an engine, a store).
 */
export function after<T>(
  value: T | Promise<T>,
  call: Call,
  core: GuardCore,
  next: (call: Call, core: GuardCore, value: T) => StepResult,
): StepResult | Promise<StepResult> {
  return value instanceof Promise
    ? value.then((settled: T) => next(call, core, settled))
    : next(call, core, value);
}

/**
 * Starts a call (a new id, the clock) and runs `steps` on it as `drive` does, with the outcome as
 * a promise: a throw anywhere, even in making the call, becomes its rejection.
 */
export function run<R>(
  steps: Steps,
  end: End<R>,
  core: GuardCore,
  definition: ToolDefinition,
  rawArgs: unknown,
  caller: CallOptions | undefined,
  mode: 'call' | 'dry-run',
): Promise<Awaited<R>> {
  try {
    // The wall clock first: a record's time (its reading plus the monotonic time since the second
    // reading) then never runs ahead of the wall clock (see `CallEvents.tsAt`).
    const wall = core.systemClock ? core.now() : Number.NaN;
    // Faults of the host's clock or id generator from here on deny the call (see `hostFault`).
    const faults = core.host.faults;
    const call = new Call(core.generateId(), definition, rawArgs, caller, mode, performance.now(), wall);
    if (!core.host.uniqueIds) call.holder = uniqueHolder(call.callId);
    call.hostFaultsAtStart = faults;
    const outcome = drive(steps, call, core, end);
    return isPromise(outcome) ? outcome : Promise.resolve(outcome as Awaited<R>);
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * `value instanceof Promise`, for what a call ends with (the tool's own value, when it is
 * synchronous): a Proxy whose `getPrototypeOf` trap throws is no promise of ours, and the call
 * resolves with it, as its record says, instead of rejecting with what the trap threw.
 */
function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  try {
    return value instanceof Promise;
  } catch {
    return false;
  }
}
