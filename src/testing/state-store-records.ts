import { expect, it } from 'vitest';
import { waitFor } from '../store/wait.ts';
import { T0, type WithStore, waitUntil } from './state-store-kit.ts';

/**
 * The StateStore conformance cases for records (TTL, JSON copies, bounded use counts), single-use
 * claims and cross-subscriber channels; `testStateStore` (state-store.ts) runs them with the
 * admission cases.
 */
export function recordAndChannelCases(withStore: WithStore): void {
  it(
    'records: put, get, list, delete, TTL, JSON copies',
    withStore(async (store) => {
      const value = { tool: 'db.query', n: 1, nested: { list: [1, 'two', null] } };
      await store.put('grants', 'g1', value, { now: T0, ttlMs: 1000 });
      await store.put('grants', 'g2', { other: true }, { now: T0 });
      await store.put('approvals', 'g1', 'elsewhere', { now: T0 });
      value.n = 2;
      expect(await store.get('grants', 'g1', T0)).toEqual({
        id: 'g1',
        value: { tool: 'db.query', n: 1, nested: { list: [1, 'two', null] } },
        expiresAt: T0 + 1000,
        uses: 0,
      });
      expect(await store.get('grants', 'missing', T0)).toBeUndefined();
      const listed = await store.list('grants', T0);
      expect(listed.map((r) => r.id).sort()).toEqual(['g1', 'g2']);
      expect(await store.get('grants', 'g1', T0 + 1000)).toBeUndefined();
      expect((await store.list('grants', T0 + 1000)).map((r) => r.id)).toEqual(['g2']);
      expect(await store.delete('grants', 'g2')).toBe(true);
      expect(await store.delete('grants', 'g2')).toBe(false);
      expect(await store.list('grants', T0)).toEqual([]);
      expect(await store.get('approvals', 'g1', T0)).toMatchObject({ value: 'elsewhere' });
    }),
  );

  it(
    'use: a bounded use count that stops at max, on missing, expired and deleted records',
    withStore(async (store) => {
      await store.put('grants', 'g', { x: 1 }, { now: T0, ttlMs: 10_000 });
      expect(await store.use('grants', 'g', { now: T0, max: 2, peek: true })).toEqual({
        ok: true,
        found: true,
        uses: 1,
      });
      expect(await store.use('grants', 'g', { now: T0, max: 2 })).toEqual({
        ok: true,
        found: true,
        uses: 1,
      });
      expect(await store.use('grants', 'g', { now: T0, max: 2 })).toEqual({
        ok: true,
        found: true,
        uses: 2,
      });
      expect(await store.use('grants', 'g', { now: T0, max: 2 })).toEqual({
        ok: false,
        found: true,
        uses: 2,
      });
      expect((await store.get('grants', 'g', T0))?.uses).toBe(2);
      expect(await store.use('grants', 'g', { now: T0 + 10_000, max: 5 })).toEqual({
        ok: false,
        found: false,
        uses: 0,
      });
      expect(await store.use('grants', 'nope', { now: T0, max: 5 })).toEqual({
        ok: false,
        found: false,
        uses: 0,
      });
      await store.put('grants', 'g', { x: 2 }, { now: T0 });
      expect(await store.use('grants', 'g', { now: T0, max: 1 })).toEqual({
        ok: true,
        found: true,
        uses: 1,
      });
      await store.delete('grants', 'g');
      expect(await store.use('grants', 'g', { now: T0, max: 5 })).toMatchObject({
        ok: false,
        found: false,
      });
      await store.put('grants', 'many', {}, { now: T0 });
      const uses = await Promise.all(
        Array.from({ length: 40 }, () => store.use('grants', 'many', { now: T0, max: 7 })),
      );
      expect(uses.filter((u) => u.ok)).toHaveLength(7);
    }),
  );

  it(
    'claim: the first caller wins, exactly once under concurrency, until it expires',
    withStore(async (store) => {
      const claims = await Promise.all(
        Array.from({ length: 30 }, () => store.claim('token-1', { now: T0, ttlMs: 1000 })),
      );
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await store.claim('token-1', { now: T0 + 999, ttlMs: 1000 })).toBe(false);
      expect(await store.claim('token-2', { now: T0, ttlMs: 1000 })).toBe(true);
      expect(await store.claim('token-1', { now: T0 + 1000, ttlMs: 1000 })).toBe(true);
    }),
  );

  it(
    'subscribe/notify wakes subscribers; unsubscribe stops delivery; waitFor re-reads state',
    withStore(async (store) => {
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
    }),
  );
}
