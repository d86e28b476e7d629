import { LazyAbort } from './lazy-abort.ts';

/**
 * The one place where toolgate calls pluggable code (policy engines, approvers, stores, sinks in
 * fail-closed mode). It never throws: a throw, a rejection, a timeout or the caller's abort all come
 * back as a failed result, and every caller maps a failed result to a deny. Nothing here can turn
 * into an allow.
 */
export type SafeResult<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'error'; error: unknown }
  | { ok: false; reason: 'timeout' }
  | { ok: false; reason: 'aborted' };

export interface CallSafelyOptions {
  /** Milliseconds before giving up; the signal passed to `fn` is aborted then. */
  timeoutMs: number;
  /** The caller's signal: aborting it settles the call as `aborted`. */
  signal?: AbortSignal | undefined;
}

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
    // setTimeout fires at once for delays past 2^31-1 ms; clamp instead (about 24.8 days).
    const timer = setTimeout(
      () => finish({ ok: false, reason: 'timeout' }),
      Math.min(timeoutMs, MAX_TIMER_MS),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      (result as PromiseLike<T>).then(
        (value) => finish({ ok: true, value }),
        (error: unknown) => finish({ ok: false, reason: 'error', error }),
      );
    } catch (error) {
      // A thenable whose `then` throws.
      finish({ ok: false, reason: 'error', error });
    }
  });
}

const MAX_TIMER_MS = 2_147_483_647;

export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
