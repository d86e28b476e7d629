import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/backends/redis/index.ts';
import { createGuard } from '../../src/guard.ts';
import { memoryStore } from '../../src/store/memory.ts';
import type { AdmitRequest, StateStore } from '../../src/store/types.ts';
import { fakeClock } from '../../src/testing/fakes.ts';
import type { Decision, RuleLimits } from '../../src/types.ts';
import { deleteKeys, newClient, redisSkipReason, uniquePrefix } from './redis-env.ts';

const skip = await redisSkipReason();
const T0 = Date.UTC(2026, 0, 1);

type Op =
  | {
      op: 'admit';
      at: number;
      holder: number;
      rate: number | null;
      sem: number | null;
      budget: number | null;
      amount: number;
      peek: boolean;
      suspended: number | null;
    }
  | { op: 'settle'; at: number; holder: number; ran: boolean }
  | { op: 'suspend'; at: number; target: number; forMs: number | null }
  | { op: 'resume'; at: number; target: number };

const RATES = [
  { key: 'r0', limit: 3, windowMs: 10_000 },
  { key: 'r1', limit: 1, windowMs: 3_000 },
];
const SEMS = [
  { key: 'c0', limit: 2, leaseMs: 5_000 },
  { key: 'c1', limit: 1, leaseMs: 2_000 },
];
const BUDGETS = [
  { key: 'b0', max: 30, windowMs: 20_000 },
  { key: 'b1', max: 10, windowMs: 5_000 },
];
const TARGETS = ['agent=a', 'tool=t'];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('admit' as const),
      at: fc.integer({ min: 0, max: 3000 }),
      holder: fc.integer({ min: 0, max: 12 }),
      rate: fc.option(fc.integer({ min: 0, max: 1 })),
      sem: fc.option(fc.integer({ min: 0, max: 1 })),
      budget: fc.option(fc.integer({ min: 0, max: 1 })),
      amount: fc.integer({ min: 0, max: 12 }),
      peek: fc.boolean(),
      suspended: fc.option(fc.integer({ min: 0, max: 1 })),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('settle' as const),
      at: fc.integer({ min: 0, max: 3000 }),
      holder: fc.integer({ min: 0, max: 12 }),
      ran: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('suspend' as const),
      at: fc.integer({ min: 0, max: 3000 }),
      target: fc.integer({ min: 0, max: 1 }),
      forMs: fc.option(fc.integer({ min: 1, max: 5000 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('resume' as const),
      at: fc.integer({ min: 0, max: 3000 }),
      target: fc.integer({ min: 0, max: 1 }),
    }),
  },
);

/** Runs a workload on a store with a clock that only moves forward; returns every answer. */
async function play(store: StateStore, ops: Op[]): Promise<unknown[]> {
  const out: unknown[] = [];
  let now = T0;
  for (const op of ops) {
    now += op.at;
    if (op.op === 'admit') {
      const request: { -readonly [K in keyof AdmitRequest]: AdmitRequest[K] } = {
        now,
        holder: `h${op.holder}`,
        peek: op.peek,
      };
      if (op.suspended !== null) request.suspensions = [TARGETS[op.suspended] as string];
      if (op.rate !== null) request.rates = [RATES[op.rate]!];
      if (op.sem !== null) request.semaphores = [SEMS[op.sem]!];
      if (op.budget !== null) request.budgets = [{ ...BUDGETS[op.budget]!, amount: op.amount }];
      out.push(await store.admit(request));
    } else if (op.op === 'settle') {
      await store.settle({
        now,
        holder: `h${op.holder}`,
        ran: op.ran,
        semaphores: ['c0', 'c1'],
        budgets: ['b0', 'b1'],
      });
      out.push('settled');
    } else if (op.op === 'suspend') {
      await store.suspend(
        TARGETS[op.target] as string,
        op.forMs === null ? { at: now } : { at: now, until: now + op.forMs },
      );
      out.push('suspended');
    } else {
      out.push(await store.resume(TARGETS[op.target] as string, now));
    }
  }
  out.push((await store.suspensions(now)).map((s) => s.key).sort());
  return out;
}

const prefixes: string[] = [];
afterAll(async () => {
  if (skip !== undefined) return;
  const client = newClient();
  for (const prefix of prefixes) await deleteKeys(client, prefix);
  await client.quit();
});

describe.skipIf(skip !== undefined)(
  `memory and Redis stores agree (G13)${skip === undefined ? '' : ` (skipped: ${skip})`}`,
  () => {
    it('on random workloads of admissions, settlements and suspensions', { timeout: 120_000 }, async () => {
      const client = newClient();
      try {
        await fc.assert(
          fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 60 }), async (ops) => {
            const prefix = uniquePrefix('agree');
            prefixes.push(prefix);
            const redis = redisStore({ client, prefix });
            const fromMemory = await play(memoryStore(), ops);
            const fromRedis = await play(redis, ops);
            expect(fromRedis).toEqual(fromMemory);
          }),
          { numRuns: 60 },
        );
      } finally {
        await client.quit();
      }
    });

    it('budget sums are taken in the same order: reservations in one millisecond round alike', async () => {
      // Before: memory summed in arrival order, Redis in (time, holder) order: 0.3 + 0.3 + 9.4 was
      // 10 on one and 10.000000000000002 on the other, so a fourth call fit a max of 10 on one only.
      const admit = (holder: number, amount: number): Op => ({
        op: 'admit',
        at: 0,
        holder,
        rate: null,
        sem: null,
        budget: 1,
        amount,
        peek: false,
        suspended: null,
      });
      const ops = [admit(2, 0.3), admit(1, 0.3), admit(0, 9.4), admit(3, 0)];
      const client = newClient();
      try {
        const prefix = uniquePrefix('agree-order');
        prefixes.push(prefix);
        const fromMemory = await play(memoryStore(), ops);
        const fromRedis = await play(redisStore({ client, prefix }), ops);
        expect(fromRedis).toEqual(fromMemory);
      } finally {
        await client.quit();
      }
    });

    it('guards on the two stores reach the same decisions, and check() agrees with each call', {
      timeout: 60_000,
    }, async () => {
      const client = newClient();
      const prefix = uniquePrefix('agree-guard');
      prefixes.push(prefix);
      const rate: RuleLimits = { rate: '3/10s', key: ['principal'] };
      const budget: RuleLimits = { budget: { sum: 'args.amount', max: 40, per: '30s' }, key: ['tool'] };
      const run = async (store: StateStore) => {
        const clock = fakeClock(T0);
        const tg = createGuard({
          onDeny: 'return',
          store,
          now: clock.now,
          policy: {
            name: 'p',
            evaluate: () =>
              ({
                type: 'allow',
                rules: ['rate', 'budget'],
                limits: [
                  { rule: 'rate', limits: rate },
                  { rule: 'budget', limits: budget },
                ],
              }) as Decision,
          },
        });
        const tool = tg.guard(({ amount }: { amount: number }) => amount, { name: 'pay' });
        const seen: unknown[] = [];
        for (let i = 0; i < 80; i++) {
          const args = { amount: (i * 7) % 13 };
          const context = { principal: `p${i % 3}` };
          const checked = await tg.check('pay', args, context);
          const result = await tool(args, { context });
          const code =
            typeof result === 'object' && result !== null ? (result as { code: string }).code : 'ok';
          // G13: the dry run predicted the call.
          expect(checked.type === 'deny' ? checked.code : 'ok').toBe(code);
          seen.push(code);
          clock.advance(((i * 37) % 11) * 50);
        }
        return seen;
      };
      const fromMemory = await run(memoryStore());
      const fromRedis = await run(redisStore({ client, prefix }));
      expect(fromRedis).toEqual(fromMemory);
      expect(fromMemory).toContain('RATE_LIMITED');
      expect(fromMemory).toContain('BUDGET_EXCEEDED');
      expect(fromMemory).toContain('ok');
      await client.quit();
    });

    it('100 concurrent guarded calls against a concurrency limit of 10 on Redis allow exactly 10', {
      timeout: 60_000,
    }, async () => {
      const client = newClient();
      const prefix = uniquePrefix('hundred');
      prefixes.push(prefix);
      const tg = createGuard({
        onDeny: 'return',
        store: redisStore({ client, prefix }),
        policy: {
          name: 'p',
          evaluate: () =>
            ({
              type: 'allow',
              rules: ['r'],
              limits: [{ rule: 'r', limits: { concurrency: 10, rate: '1000/1m' } }],
            }) as Decision,
        },
      });
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tool = tg.guard(
        async () => {
          await gate;
          return 'ok';
        },
        { name: 't' },
      );
      const calls = Array.from({ length: 100 }, () => tool({}));
      // Denials settle first; the 10 admitted calls wait on the gate.
      const settled: unknown[] = [];
      for (const call of calls) void call.then((value) => settled.push(value));
      for (let i = 0; i < 500 && settled.length < 90; i++)
        await new Promise((resolve) => setTimeout(resolve, 10));
      expect(settled).toHaveLength(90);
      release();
      const results = await Promise.all(calls);
      expect(results.filter((r) => r === 'ok')).toHaveLength(10);
      expect(results.filter((r) => (r as { code?: string }).code === 'CONCURRENCY_LIMITED')).toHaveLength(90);
      await client.quit();
    });
  },
);
