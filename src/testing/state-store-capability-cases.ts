import { requireCapabilities } from '../store/capabilities.ts';
import type { StateStore } from '../store/types.ts';
import { waitFor } from '../store/wait.ts';
import { expect } from './expect.ts';
import type { TestRunner } from './runner.ts';
import { MIN, T0, type WithStore, waitUntil } from './state-store-kit.ts';

/**
 * The StateStore conformance cases for the optional capabilities: single-use claims,
 * cross-subscriber channels and synchronous admission. `testStateStore` (state-store.ts) runs
 * each only against a store that has it.
 */
export function capabilityCases(withStore: WithStore, it: TestRunner['it']): void {
  it(
    'claim: the first caller wins, exactly once under concurrency, until it expires',
    withStore(
      async (any) => {
        const store = requireCapabilities(any, ['claim'], 'claim cases');
        const claims = await Promise.all(
          Array.from({ length: 30 }, () => store.claim('token-1', { now: T0, ttlMs: 1000 })),
        );
        expect(claims.filter(Boolean)).toHaveLength(1);
        expect(await store.claim('token-1', { now: T0 + 999, ttlMs: 1000 })).toBe(false);
        expect(await store.claim('token-2', { now: T0, ttlMs: 1000 })).toBe(true);
        expect(await store.claim('token-1', { now: T0 + 1000, ttlMs: 1000 })).toBe(true);
      },
      ['claim'],
    ),
  );

  it(
    'subscribe/notify wakes subscribers; unsubscribe stops delivery; waitFor re-reads state',
    withStore(
      async (any) => {
        const store = requireCapabilities(any, ['subscribe', 'notify'], 'channel cases');
        const got: string[] = [];
        const unsubscribe = await store.subscribe('chan', (message) => got.push(message));
        const other: string[] = [];
        const unsubscribeOther = await store.subscribe('other', (message) => other.push(message));
        await store.notify('chan', 'one');
        await waitUntil(() => got.length === 1);
        expect(got).toEqual(['one']);
        await unsubscribe();
        await store.notify('chan', 'two');
        await store.notify('other', 'ping');
        await waitUntil(() => other.length === 1);
        expect(got).toEqual(['one']);
        await unsubscribeOther();

        const answer = waitFor(
          store,
          'approval:1',
          async () => (await store.get('approvals', '1', T0))?.value,
          { pollMs: 60_000 },
        );
        await new Promise((resolve) => setTimeout(resolve, 20));
        await store.put('approvals', '1', { approved: true }, { now: T0 });
        await store.notify('approval:1', 'answered');
        expect(await answer).toEqual({ approved: true });
      },
      ['subscribe', 'notify'],
    ),
  );

  it(
    'syncAdmission: admits new holders as admit does, sees suspensions, answers only for its own admit, stops at close',
    withStore(
      async (store) => {
        const sync = store.syncAdmission!();
        if (sync === undefined) throw new Error('syncAdmission() returned nothing');
        const rate = { key: 'sync-r', limit: 2, windowMs: MIN };
        expect(sync!.admitNew({ now: T0, holder: 'n1', suspensions: [], rates: [rate] })).toEqual({
          ok: true,
        });
        expect(sync!.admitNew({ now: T0 + 1, holder: 'n2', suspensions: [], rates: [rate] })).toEqual({
          ok: true,
        });
        expect(sync!.admitNew({ now: T0 + 2, holder: 'n3', suspensions: [], rates: [rate] })).toEqual({
          ok: false,
          kind: 'rate',
          key: 'sync-r',
          retryAfterMs: MIN - 2,
        });
        // Holders admitted through it are known to `admit`: admitting one again is no second hit.
        expect(await store.admit({ now: T0 + 3, holder: 'n1', rates: [rate] })).toEqual({ ok: true });

        await store.suspend('agent=x', { at: T0 });
        expect(sync!.nothingSuspended()).toBe(false);
        expect(sync!.admitNew({ now: T0, holder: 'n4', suspensions: ['agent=x'] })).toEqual({
          ok: false,
          kind: 'suspended',
          key: 'agent=x',
        });

        // A copy whose `admit` is another one's gets no synchronous admission.
        const wrapped: StateStore = { ...store, admit: (request) => store.admit(request) };
        expect(wrapped.syncAdmission?.()).toBeUndefined();

        // Closed, it never lets a call skip the store.
        await store.close?.();
        const after = store.syncAdmission!();
        if (after !== undefined) expect(() => after.nothingSuspended()).toThrow();
        expect(() => sync!.nothingSuspended()).toThrow();
      },
      ['syncAdmission'],
    ),
  );
}
