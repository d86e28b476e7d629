import type { StateStore } from './types.ts';

/** Options of `waitFor`. */
export interface WaitForOptions {
  /** Stops waiting; `waitFor` then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * Re-reads state on this interval too, in case a notification was lost (a dropped connection).
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
  const pollMs = options.pollMs ?? 1000;
  if (!(pollMs > 0)) throw new TypeError('toolgate: waitFor pollMs must be a positive number');
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
