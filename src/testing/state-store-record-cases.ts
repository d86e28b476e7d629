import { expect } from './expect.ts';
import type { TestRunner } from './runner.ts';
import { T0, type WithStore } from './state-store-kit.ts';

/**
 * The StateStore conformance cases for records (TTL, JSON copies, bounded use counts);
 * `testStateStore` (state-store.ts) runs them with the admission cases.
 */
export function recordCases(withStore: WithStore, it: TestRunner['it']): void {
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
}
