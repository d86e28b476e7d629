import type { StateStore } from '../store/types.ts';
import { expect } from './expect.ts';
import { type SuiteOptions, skippedSuite, suiteRunner } from './runner.ts';
import { capabilityCases } from './state-store-capability-cases.ts';
import { MIN, T0, type WithStore } from './state-store-kit.ts';
import { recordCases } from './state-store-record-cases.ts';

/** Options of `testStateStore`. */
export interface TestStateStoreOptions extends SuiteOptions {
  /** Creates a fresh store (or one with a fresh key prefix) and optionally a cleanup. */
  create(): Promise<{ store: StateStore; cleanup?: () => Promise<void> }>;
  /** When set, the suite is skipped with this message (e.g. no Redis reachable). */
  skip?: string;
}

/**
 * Conformance suite for a `StateStore`: exact sliding-window rates, semaphores with leases, budget
 * reservations, all-or-nothing admission, peek, suspensions, records with TTL and bounded use
 * counts, and exact answers under concurrency; then each optional capability the store has
 * (single-use claims, cross-subscriber notification, synchronous admission), skipped when it has
 * not. Every time comes from the test (`now`), so any two conforming stores give the same answers.
 *
 * @example
 * import { describe, it } from 'node:test';
 * testStateStore('memory', { create: async () => ({ store: memoryStore() }), runner: { describe, it } });
 */
export function testStateStore(name: string, options: TestStateStoreOptions): void {
  const runner = suiteRunner(options, 'testStateStore');
  const { describe, it } = runner;
  if (options.skip !== undefined) {
    skippedSuite(runner, `StateStore conformance: ${name}`, options.skip);
    return;
  }
  describe(`StateStore conformance: ${name}`, () => {
    // Rest parameters keep the body's length 0: Jest reads a body that takes an argument as
    // waiting for a `done` callback.
    const withStore: WithStore =
      (fn, needs = []) =>
      async (...context) => {
        const { store, cleanup } = await options.create();
        try {
          const missing = needs.filter((name) => typeof store[name] !== 'function');
          if (missing.length === 0) await fn(store);
          else skipCase(context[0], `the store has no ${missing.join(', ')}`);
        } finally {
          await store.close?.();
          await cleanup?.();
        }
      };

    it(
      'rates: exactly the limit in a sliding window, retryAfterMs, peek consumes nothing',
      withStore(async (store) => {
        const rate = { key: 'r1', limit: 3, windowMs: MIN };
        for (let i = 0; i < 3; i++) {
          expect(
            await store.admit({ now: T0 + i * 1000, holder: `h${i}`, rates: [rate], peek: true }),
          ).toEqual({ ok: true });
          expect(await store.admit({ now: T0 + i * 1000, holder: `h${i}`, rates: [rate] })).toEqual({
            ok: true,
          });
        }
        expect(await store.admit({ now: T0 + 5000, holder: 'h3', rates: [rate] })).toEqual({
          ok: false,
          kind: 'rate',
          key: 'r1',
          retryAfterMs: 55_000,
        });
        // Admitting the same holder again is not a second hit.
        expect(await store.admit({ now: T0 + 5000, holder: 'h1', rates: [rate] })).toEqual({ ok: true });
        expect(await store.admit({ now: T0 + MIN - 1, holder: 'h4', rates: [rate] })).toMatchObject({
          ok: false,
          retryAfterMs: 1,
        });
        expect(await store.admit({ now: T0 + MIN, holder: 'h5', rates: [rate] })).toEqual({ ok: true });
        expect(await store.admit({ now: T0 + MIN, holder: 'h6', rates: [rate] })).toMatchObject({
          ok: false,
          kind: 'rate',
        });
        // Other keys are independent.
        expect(await store.admit({ now: T0, holder: 'h7', rates: [{ ...rate, key: 'r2' }] })).toEqual({
          ok: true,
        });
      }),
    );

    it(
      'admission is all or nothing',
      withStore(async (store) => {
        const rate = { key: 'r', limit: 5, windowMs: MIN };
        const sem = { key: 'c', limit: 1, leaseMs: MIN };
        const budget = { key: 'b', amount: 10, max: 10, windowMs: MIN };
        expect(await store.admit({ now: T0, holder: 'a', semaphores: [sem] })).toEqual({ ok: true });
        for (let i = 0; i < 3; i++) {
          expect(
            await store.admit({
              now: T0,
              holder: `x${i}`,
              rates: [rate],
              semaphores: [sem],
              budgets: [budget],
            }),
          ).toEqual({
            ok: false,
            kind: 'concurrency',
            key: 'c',
          });
        }
        // Neither the rate nor the budget was consumed by the failed attempts.
        for (let i = 0; i < 5; i++) {
          const holder = `y${i}`;
          expect(
            await store.admit({ now: T0, holder, rates: [rate], budgets: i === 0 ? [budget] : [] }),
          ).toEqual({ ok: true });
        }
        expect(await store.admit({ now: T0, holder: 'z', rates: [rate] })).toMatchObject({
          ok: false,
          kind: 'rate',
        });
      }),
    );

    it(
      'semaphores: limit, release by settle, lease expiry',
      withStore(async (store) => {
        const sem = { key: 'c', limit: 2, leaseMs: 10_000 };
        expect(await store.admit({ now: T0, holder: 'a', semaphores: [sem] })).toEqual({ ok: true });
        expect(await store.admit({ now: T0, holder: 'b', semaphores: [sem] })).toEqual({ ok: true });
        expect(await store.admit({ now: T0, holder: 'c', semaphores: [sem] })).toEqual({
          ok: false,
          kind: 'concurrency',
          key: 'c',
        });
        await store.settle({ now: T0, holder: 'a', semaphores: ['c'], ran: true });
        await store.settle({ now: T0, holder: 'a', semaphores: ['c'], ran: true });
        expect(await store.admit({ now: T0, holder: 'c', semaphores: [sem] })).toEqual({ ok: true });
        expect(await store.admit({ now: T0 + 9_999, holder: 'd', semaphores: [sem] })).toMatchObject({
          ok: false,
        });
        // Both leases end at T0 + 10s: a crashed holder cannot keep a slot.
        expect(await store.admit({ now: T0 + 10_000, holder: 'd', semaphores: [sem] })).toEqual({ ok: true });
        expect(await store.admit({ now: T0 + 10_000, holder: 'e', semaphores: [sem] })).toEqual({ ok: true });
        expect(await store.admit({ now: T0 + 10_000, holder: 'f', semaphores: [sem] })).toMatchObject({
          ok: false,
        });
      }),
    );

    it(
      'budgets: reserve, never overshoot, release when not run, commit when run, slide',
      withStore(async (store) => {
        const day = 86_400_000;
        const budget = (amount: number) => ({ key: 'b', amount, max: 100, windowMs: day });
        expect(await store.admit({ now: T0, holder: 'a', budgets: [budget(60)] })).toEqual({ ok: true });
        expect(await store.admit({ now: T0 + 1000, holder: 'b', budgets: [budget(30)] })).toEqual({
          ok: true,
        });
        expect(await store.admit({ now: T0 + 2000, holder: 'c', budgets: [budget(20)] })).toEqual({
          ok: false,
          kind: 'budget',
          key: 'b',
          retryAfterMs: day - 2000,
        });
        expect(await store.admit({ now: T0 + 2000, holder: 'c', budgets: [budget(101)] })).toEqual({
          ok: false,
          kind: 'budget',
          key: 'b',
        });
        expect(await store.admit({ now: T0 + 2000, holder: 'c', budgets: [budget(10)] })).toEqual({
          ok: true,
        });
        // b never ran: its 30 come back. a ran: its 60 stay.
        await store.settle({ now: T0 + 3000, holder: 'b', budgets: ['b'], ran: false });
        await store.settle({ now: T0 + 3000, holder: 'a', budgets: ['b'], ran: true });
        expect(await store.admit({ now: T0 + 3000, holder: 'd', budgets: [budget(30)] })).toEqual({
          ok: true,
        });
        expect(await store.admit({ now: T0 + 3000, holder: 'e', budgets: [budget(0.5)] })).toMatchObject({
          ok: false,
        });
        expect(await store.admit({ now: T0 + day, holder: 'e', budgets: [budget(60)] })).toEqual({
          ok: true,
        });
      }),
    );

    it(
      'suspensions: in force until resumed or until',
      withStore(async (store) => {
        expect(await store.admit({ now: T0, holder: 'a', suspensions: ['agent=x', 'tool=t'] })).toEqual({
          ok: true,
        });
        await store.suspend('tool=t', { at: T0, reason: 'incident' });
        await store.suspend('agent=y', { at: T0, until: T0 + 1000 });
        expect(await store.admit({ now: T0, holder: 'a', suspensions: ['agent=x', 'tool=t'] })).toEqual({
          ok: false,
          kind: 'suspended',
          key: 'tool=t',
        });
        expect((await store.suspensions(T0)).map((s) => s.key).sort()).toEqual(['agent=y', 'tool=t']);
        expect(await store.suspensions(T0 + 1000)).toEqual([{ key: 'tool=t', at: T0, reason: 'incident' }]);
        expect(await store.admit({ now: T0 + 999, holder: 'b', suspensions: ['agent=y'] })).toMatchObject({
          ok: false,
        });
        expect(await store.admit({ now: T0 + 1000, holder: 'b', suspensions: ['agent=y'] })).toEqual({
          ok: true,
        });
        expect(await store.resume('tool=t', T0)).toBe(true);
        expect(await store.resume('tool=t', T0)).toBe(false);
        expect(await store.resume('agent=y', T0 + 5000)).toBe(false);
        expect(await store.admit({ now: T0, holder: 'c', suspensions: ['tool=t'] })).toEqual({ ok: true });
      }),
    );

    it(
      'exact under concurrency: 100 simultaneous admissions against limits of 10',
      withStore(async (store) => {
        const attempts = (extra: object) =>
          Promise.all(
            Array.from({ length: 100 }, (_, i) => store.admit({ now: T0, holder: `h${i}`, ...extra })),
          );
        const rates = await attempts({ rates: [{ key: 'r', limit: 10, windowMs: MIN }] });
        expect(rates.filter((r) => r.ok)).toHaveLength(10);
        const sems = await attempts({ semaphores: [{ key: 'c', limit: 10, leaseMs: MIN }] });
        expect(sems.filter((r) => r.ok)).toHaveLength(10);
        const budgets = await attempts({ budgets: [{ key: 'b', amount: 7, max: 70, windowMs: MIN }] });
        expect(budgets.filter((r) => r.ok)).toHaveLength(10);
      }),
    );

    it(
      'refuses malformed requests instead of guessing',
      withStore(async (store) => {
        const bad = [
          { now: Number.NaN, holder: 'h' },
          { now: T0, holder: 5 },
          { now: T0, holder: 'h', rates: [{ key: 'r', limit: 0, windowMs: 1 }] },
          { now: T0, holder: 'h', rates: [{ key: 'r', limit: 1.5, windowMs: 1 }] },
          { now: T0, holder: 'h', semaphores: [{ key: 'c', limit: 1, leaseMs: -1 }] },
          { now: T0, holder: 'h', budgets: [{ key: 'b', amount: -1, max: 1, windowMs: 1 }] },
          {
            now: T0,
            holder: 'h',
            budgets: [{ key: 'b', amount: Number.POSITIVE_INFINITY, max: 1, windowMs: 1 }],
          },
        ];
        for (const request of bad) {
          await expect(Promise.resolve().then(() => store.admit(request as never))).rejects.toThrow();
        }
        await expect(
          Promise.resolve().then(() => store.put('c', 'i', undefined as never, { now: T0 })),
        ).rejects.toThrow();
      }),
    );

    // Records and use counts (state-store-record-cases.ts); the optional capabilities, each tested
    // when the store has it (state-store-capability-cases.ts).
    recordCases(withStore, it);
    capabilityCases(withStore, it);
  });
}

/** Marks a running case skipped through the runner's test context, where it has `skip()`. */
function skipCase(context: unknown, reason: string): void {
  const skip = (context as { skip?: unknown } | undefined)?.skip;
  if (typeof skip === 'function') skip.call(context, reason);
}
