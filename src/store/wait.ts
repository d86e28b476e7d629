import { MAX_TIMER_MS } from '../_internal/deadlines.ts';
import type { StateStore } from './types.ts';

/** Options of `waitFor`. */
export interface WaitForOptions {
  /** Stops waiting; `waitFor` then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Re-reads state on this interval too, in case a notification was lost (a dropped connection);
   * at most every 24.8 days (the longest delay of a Node timer), `Infinity` included.
   * @default 1000
   */
  pollMs?: number;
}

/**
 * Waits until `read()` returns something other than `undefined`, re-reading whenever `channel` is
 * notified (from any process sharing the store) and every `pollMs`. Subscribes before the first
 * read, so an answer written and notified in between is never missed. The store needs the
 * `subscribe` capability; without it this rejects with a TypeError.
 *
 * @example
 * const answer = await waitFor(store, `approval:${id}`, () => store.get('approvals', id, Date.now()), { signal });
 */
export async function waitFor<T>(
  store: Pick<StateStore, 'subscribe'>,
  channel: string,
  read: () => T | undefined | PromiseLike<T | undefined>,
  options: WaitForOptions = {},
): Promise<T> {
  const { signal } = options;
  if (!((options.pollMs ?? 1000) > 0))
    throw new TypeError('toolgate: waitFor pollMs must be a positive number');
  // A longer delay (Infinity included) would overflow setTimeout, which then fires after 1 ms.
  const pollMs = Math.min(options.pollMs ?? 1000, MAX_TIMER_MS);
  const subscribe = store?.subscribe;
  if (typeof subscribe !== 'function')
    throw new TypeError('toolgate: waitFor needs a store with the subscribe capability');
  signal?.throwIfAborted();
  let wake: (() => void) | undefined;
  let pending = false;
  const unsubscribe = await subscribe.call(store, channel, () => {
    pending = true;
    wake?.();
  });
  let onAbort: (() => void) | undefined;
  try {
    for (;;) {
      signal?.throwIfAborted();
      pending = false;
      const value = await read();
      if (value !== undefined) return value;
      if (pending) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, pollMs);
        function done() {
          clearTimeout(timer);
          wake = undefined;
          if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
          resolve();
        }
        wake = done;
        onAbort = done;
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    }
  } finally {
    await unsubscribe();
  }
}
