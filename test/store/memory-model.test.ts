import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/store/memory.ts';
import type { AdmitRequest, AdmitResult, StateStore } from '../../src/store/types.ts';

const T0 = Date.UTC(2026, 0, 1);

/** The memory store answers synchronously. */
const admitNow = (store: StateStore, request: AdmitRequest) => store.admit(request) as AdmitResult;

describe('memoryStore against an obvious model', () => {
  it('rates: admits iff fewer than limit admitted hits lie in (t - window, t]; retryAfterMs is exact', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 120 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 2000 }),
        (gaps, limit, windowMs) => {
          const store = memoryStore();
          const admitted: number[] = [];
          let t = T0;
          gaps.forEach((gap, i) => {
            t += gap;
            const inWindow = admitted.filter((hit) => hit > t - windowMs && hit <= t);
            const result = admitNow(store, {
              now: t,
              holder: `h${i}`,
              rates: [{ key: 'k', limit, windowMs }],
            });
            if (inWindow.length < limit) {
              expect(result).toEqual({ ok: true });
              admitted.push(t);
            } else {
              const oldest = inWindow[inWindow.length - limit] as number;
              expect(result).toEqual({
                ok: false,
                kind: 'rate',
                key: 'k',
                retryAfterMs: Math.max(1, oldest + windowMs - t),
              });
            }
          });
        },
      ),
    );
  });

  it('rates over long windows: fresh and re-admitted holders, many hits pruned at a time', () => {
    // Wide limits and bursts of time make the window drop dozens of hits at once and compact its
    // array (head >= 32); re-admissions of a live holder take nothing; fresh hits (the limits
    // step's first admission of a call) are found by a later re-admission too.
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            gap: fc.oneof(
              { arbitrary: fc.integer({ min: 0, max: 20 }), weight: 12 },
              { arbitrary: fc.integer({ min: 0, max: 900 }), weight: 1 },
            ),
            again: fc.option(fc.nat(), { freq: 4 }),
            fresh: fc.boolean(),
          }),
          { minLength: 100, maxLength: 600 },
        ),
        fc.integer({ min: 1, max: 90 }),
        fc.integer({ min: 50, max: 3000 }),
        (steps, limit, windowMs) => {
          const store = memoryStore();
          const sync = store.syncAdmission!()!;
          const admitted: { t: number; holder: string }[] = [];
          let t = T0;
          steps.forEach((step, i) => {
            t += step.gap;
            const live = admitted.filter((hit) => hit.t > t - windowMs && hit.t <= t);
            // A re-admission names an earlier holder (live or not); a new holder is fresh or not.
            const holder = step.again === null || i === 0 ? `h${i}` : `h${step.again % i}`;
            const isNew = holder === `h${i}`;
            const request = { now: t, holder, rates: [{ key: 'k', limit, windowMs }] };
            const result = isNew && step.fresh ? sync.admitNew(request) : admitNow(store, request);
            if (live.some((hit) => hit.holder === holder)) {
              expect(result).toEqual({ ok: true });
            } else if (live.length < limit) {
              expect(result).toEqual({ ok: true });
              admitted.push({ t, holder });
            } else {
              const oldest = live[live.length - limit]!.t;
              expect(result).toEqual({
                ok: false,
                kind: 'rate',
                key: 'k',
                retryAfterMs: Math.max(1, oldest + windowMs - t),
              });
            }
          });
        },
      ),
      // Long runs shrink slowly: a failure is reported as found.
      { numRuns: 300, endOnFailure: true },
    );
  });

  it('budgets: a holder whose reservation left the window is counted again when it is re-admitted', () => {
    const store = memoryStore();
    const budget = (amount: number) => [{ key: 'b', amount, max: 100, windowMs: 1000 }];
    expect(admitNow(store, { now: T0, holder: 'h', budgets: budget(60) })).toEqual({ ok: true });
    expect(admitNow(store, { now: T0 + 1000, holder: 'g', budgets: budget(60) })).toEqual({ ok: true });
    // h's first reservation is gone: re-admitting it is a new reservation, over the maximum.
    expect(admitNow(store, { now: T0 + 1000, holder: 'h', budgets: budget(60) })).toMatchObject({
      ok: false,
      kind: 'budget',
    });
    // A holder still in the window is not counted twice.
    expect(admitNow(store, { now: T0 + 1000, holder: 'g', budgets: budget(60) })).toEqual({ ok: true });
  });

  it('budgets: admits iff the window sum plus the amount stays within max; releases give it back', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            gap: fc.integer({ min: 0, max: 300 }),
            amount: fc.integer({ min: 0, max: 40 }),
            ran: fc.boolean(),
          }),
          {
            minLength: 1,
            maxLength: 100,
          },
        ),
        fc.integer({ min: 0, max: 100 }),
        fc.integer({ min: 1, max: 3000 }),
        (steps, max, windowMs) => {
          const store = memoryStore();
          const held: { t: number; amount: number }[] = [];
          let t = T0;
          steps.forEach((step, i) => {
            t += step.gap;
            const sum = held.filter((r) => r.t > t - windowMs).reduce((total, r) => total + r.amount, 0);
            const result = admitNow(store, {
              now: t,
              holder: `h${i}`,
              budgets: [{ key: 'b', amount: step.amount, max, windowMs }],
            });
            expect(result.ok).toBe(sum + step.amount <= max);
            if (result.ok) {
              store.settle({ now: t, holder: `h${i}`, budgets: ['b'], ran: step.ran });
              if (step.ran) held.push({ t, amount: step.amount });
            }
          });
        },
      ),
    );
  });

  it('semaphores: never more than limit live holders; leases lapse', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            gap: fc.integer({ min: 0, max: 50 }),
            release: fc.option(fc.integer({ min: 0, max: 30 })),
          }),
          {
            maxLength: 100,
          },
        ),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 200 }),
        (steps, limit, leaseMs) => {
          const store = memoryStore();
          const live = new Map<string, number>();
          let t = T0;
          steps.forEach((step, i) => {
            t += step.gap;
            for (const [holder, until] of live) if (until <= t) live.delete(holder);
            if (step.release !== null) {
              const holder = `h${step.release}`;
              store.settle({ now: t, holder, semaphores: ['c'], ran: true });
              live.delete(holder);
            }
            const result = admitNow(store, {
              now: t,
              holder: `h${i}`,
              semaphores: [{ key: 'c', limit, leaseMs }],
            });
            expect(result.ok).toBe(live.size < limit);
            if (result.ok) live.set(`h${i}`, t + leaseMs);
          });
        },
      ),
    );
  });
});
