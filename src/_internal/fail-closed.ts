import { MAX_TIMER_MS } from './deadlines.ts';
import { LazyAbort } from './lazy-abort.ts';

/**
 * The one place where toolgate calls pluggable code (policy engines, approvers, stores, sinks in
 * fail-closed mode): `callSafely`, and `callSync` for capabilities that answer synchronously. It
 * never throws: a throw, a rejection, a timeout or the caller's abort all come back as a failed
 * result, and every caller maps a failed result to a deny (or, for a hint, to the cautious
 * answer). Nothing here can turn into an allow.
 */
export type SafeResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'error'; error: unknown }
  | { ok: false; reason: 'timeout' }
  | { ok: false; reason: 'aborted' };

/** Options of `callSafely`. */
export interface CallSafelyOptions {
  /** Milliseconds before giving up; the signal passed to `fn` is aborted then. */
  timeoutMs: number;
  /** The caller's signal: aborting it settles the call as `aborted`. */
  signal?: AbortSignal | undefined;
  /**
   * Receives a value `fn` delivers after the call was settled (by its timeout or the caller's
   * abort): a late answer, to be recorded and otherwise ignored. Whatever it throws is dropped.
   */
  onLate?: ((value: unknown) => void) | undefined;
}

/**
 * Calls `fn` (with a signal it may read) and returns what it gave, or why it gave nothing.
 * Synchronous when `fn` is: a value that is not a thenable comes back as it is, without a timer.
 * Otherwise the first of the answer, a rejection, the timeout and the caller's abort settles the
 * call, once; the signal given to `fn` is aborted when the call is settled without an answer.
 */
export function callSafely<T>(
  fn: (control: { readonly signal: AbortSignal }) => T | PromiseLike<T>,
  options: CallSafelyOptions,
): SafeResult<T> | Promise<SafeResult<T>> {
  const { timeoutMs, signal } = options;
  if (signal?.aborted) return { ok: false, reason: 'aborted' };
  const controller = new LazyAbort();
  let result: T | PromiseLike<T>;
  let thenable: boolean;
  try {
    // The signal is created only if `fn` reads `control.signal` (see LazyAbort).
    result = fn(controller);
    thenable = isThenable(result);
  } catch (error) {
    // Includes a `then` getter that throws.
    return { ok: false, reason: 'error', error };
  }
  if (!thenable) return { ok: true, value: result as T };
  return new Promise<SafeResult<T>>((resolve) => {
    let settled = false;
    const finish = (outcome: SafeResult<T>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      if (!outcome.ok) controller.abort(new Error(`toolgate: ${outcome.reason}`));
      resolve(outcome);
    };
    const onAbort = () => finish({ ok: false, reason: 'aborted' });
    const timer = setTimeout(
      () => finish({ ok: false, reason: 'timeout' }),
      Math.min(timeoutMs, MAX_TIMER_MS),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    // The caller may have aborted while `fn` ran; that event is gone.
    if (signal?.aborted) onAbort();
    try {
      (result as PromiseLike<T>).then(
        (value) => (settled ? late(options.onLate, value) : finish({ ok: true, value })),
        (error: unknown) => finish({ ok: false, reason: 'error', error }),
      );
    } catch (error) {
      // A thenable whose `then` throws.
      finish({ ok: false, reason: 'error', error });
    }
  });
}

/** What `callSync` gives back when the call failed: what it threw, or that it did not answer at once. */
export class CallFailure {
  constructor(readonly error: unknown) {}
}

/**
 * `callSafely` for a capability that answers synchronously by contract (a store's
 * `syncAdmission`), on the hot path: `fn(input)`, with no timer, no controller, no result object
 * and no closure. A throw, or a thenable where a value was promised, comes back as a
 * `CallFailure` (a thenable is left to settle, its rejection caught), which the caller maps to a
 * deny, or for a hint to its cautious answer (docs/performance.md, "The pipeline as a list of
 * steps").
 */
export function callSync<I, T>(fn: (input: I) => T, input: I): T | CallFailure {
  try {
    const value = fn(input);
    if (!isThenable(value)) return value;
    Promise.resolve(value).catch(ignore);
    return new CallFailure(new TypeError('toolgate: a synchronous capability answered with a promise'));
  } catch (error) {
    return new CallFailure(error);
  }
}

function ignore(): void {}

/**
 * Settles a host function's promise that nobody will wait for (it answered with one where a value
 * was due, or its answer is ignored): its rejection is handled here, so it never becomes an
 * unhandled rejection, which ends a Node process by default. Anything else is left alone.
 */
export function dropPromise(value: unknown): void {
  try {
    if (isThenable(value)) Promise.resolve(value).catch(ignore);
  } catch {
    // A `then` that cannot be read is no promise anyone can settle.
  }
}

/** Hands a late value to `onLate`; recording it must never affect anything else. */
function late(onLate: ((value: unknown) => void) | undefined, value: unknown): void {
  try {
    onLate?.(value);
  } catch {
    // Dropped: see CallSafelyOptions.onLate.
  }
}

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
