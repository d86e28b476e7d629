// Limits overhead: a guarded allow call with no limits vs. the same call under a rate limit, with
// the memory store and with Redis on loopback (one admit script per call), plus throughput of one
// process against Redis. Redis rows become a note row when no Redis is reachable.
import { Redis } from 'ioredis';
import { redisStore } from '../src/backends/redis/index.ts';
import { createGuard, memoryAudit, memoryStore, rules, type StateStore } from '../src/index.ts';
import { deleteKeys, probeRedis } from '../test/store/redis-env.ts';
import { type BenchRow, report, time } from './harness.ts';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const args = { q: 'orders for user 42' };
const context = { context: { agent: 'bench-bot', principal: 'user:42' } };

/** A clock that moves 100 ms per read of a call, so a 1000/1m limit never denies and the log stays bounded. */
function steppingClock() {
  let now = Date.UTC(2026, 0, 1);
  return () => {
    now += 100;
    return now;
  };
}

/**
 * One guard, as an application has, with two tools that differ only in their rule: `search` has a
 * rate limit, `lookup` has none. The policy language declares limits on a rule (`limit`); `rules()`
 * compiles them once into frozen decisions, which the guard trusts as they are (a custom engine
 * gets the same by returning deep-frozen decisions; see docs/performance.md).
 */
function guarded(store: StateStore) {
  const policy = rules([
    { id: 'search', effect: 'allow', tool: 'search', limit: { rate: '1000/1m' } },
    { id: 'lookup', effect: 'allow', tool: 'lookup' },
  ]);
  const tg = createGuard({ policy, audit: memoryAudit({ limit: 1000 }), store, now: steppingClock() });
  const tool = async (input: { q: string }) => input.q.length;
  return { limited: tg.guard(tool, { name: 'search' }), plain: tg.guard(tool, { name: 'lookup' }) };
}

/** One row from several measurements of the same thing: the median of their medians and p99s. */
function medianRow(name: string, measured: readonly BenchRow[]): BenchRow {
  const middle = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const row: BenchRow = {
    name,
    median_ns: middle(measured.map((row) => row.median_ns ?? 0)),
    p99_ns: middle(measured.map((row) => row.p99_ns ?? 0)),
  };
  return report(row);
}

/**
 * Median of `b − a` over interleaved batches of the two calls (ns per call), with the quartiles:
 * each pair runs within a few milliseconds, so load that comes and goes hits both sides alike.
 */
async function pairedDifference(
  b: (input: typeof args, options: typeof context) => Promise<unknown>,
  a: (input: typeof args, options: typeof context) => Promise<unknown>,
  pairs = 150,
  batch = 2000,
): Promise<{ median_ns: number; p25_ns: number; p75_ns: number; pairs: number }> {
  const timed = async (fn: typeof a) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) await fn(args, context);
    return Number(process.hrtime.bigint() - started) / batch;
  };
  const differences: number[] = [];
  for (let pair = 0; pair < pairs; pair++) {
    // Alternate which side goes first, so neither always runs right after a GC of the other.
    if (pair % 2 === 0) differences.push(-(await timed(a)) + (await timed(b)));
    else differences.push((await timed(b)) - (await timed(a)));
  }
  differences.sort((x, y) => x - y);
  const at = (q: number) => Math.round(differences[Math.floor(q * (differences.length - 1))] ?? 0);
  return { median_ns: at(0.5), p25_ns: at(0.25), p75_ns: at(0.75), pairs };
}

export default async function limits(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const { plain, limited: memory } = guarded(memoryStore());
  if ((await memory(args, context)) !== args.q.length) throw new Error('rate-limited call did not allow');
  // The two guarded rows alternate for three rounds and each reports the median of its round
  // medians: a single pass of each was at the mercy of when the JIT and GC happened to run.
  const rounds: Record<'plain' | 'limited', BenchRow[]> = { plain: [], limited: [] };
  for (let round = 0; round < 3; round++) {
    rounds.plain.push(await time(`guard.nolimits.memory (round ${round + 1})`, () => plain(args, context)));
    rounds.limited.push(
      await time(`guard.ratelimit.memory (round ${round + 1})`, () => memory(args, context)),
    );
  }
  const nolimits = medianRow('guard.nolimits.memory', rounds.plain);
  const ratelimit = medianRow('guard.ratelimit.memory', rounds.limited);
  rows.push(nolimits, ratelimit);
  // What the rate limit adds (the "memory store adds < 1 µs"), measured as a difference
  // should be on a shared machine: short batches of the two tools interleaved, and the median of
  // the pairwise differences. Rows taken seconds apart (above) moved by more than the difference.
  rows.push(report({ name: 'guard.ratelimit.memory.added', ...(await pairedDifference(memory, plain)) }));

  // The store operation alone: one rate check and hit, as the limits step sends it (measured
  // after the guarded rows, so its own calls do not shape the code paths they measure).
  const store = memoryStore();
  let now = Date.UTC(2026, 0, 1);
  let n = 0;
  const rate = [
    { key: 'rate:["search",["tool","principal"],["search","user:42"]]', limit: 1000, windowMs: 60_000 },
  ];
  const suspensions = ['tool=search', 'agent=bench-bot', 'principal=user:42'];
  rows.push(
    await time('store.admit.memory', () => {
      now += 100;
      n += 1;
      return store.admit({ now, holder: `c${n}`, suspensions, rates: rate });
    }),
  );

  const problem = await probeRedis(REDIS_URL);
  const skip = problem === undefined ? undefined : `skipped: ${problem}`;
  if (skip !== undefined) {
    for (const name of ['guard.ratelimit.redis', 'guard.ratelimit.redis.throughput'])
      rows.push(report({ name, note: skip }));
    return rows;
  }
  const client = new Redis(REDIS_URL);
  const prefix = `toolgate-bench:${process.pid}:${Date.now().toString(36)}:`;
  try {
    const redis = guarded(redisStore({ client, prefix })).limited;
    if ((await redis(args, context)) !== args.q.length)
      throw new Error('Redis rate-limited call did not allow');
    await client.ping();
    const started = process.hrtime.bigint();
    for (let i = 0; i < 200; i++) await client.ping();
    const pingNs = Number(process.hrtime.bigint() - started) / 200;
    rows.push(report({ name: 'redis.ping.loopback', median_ns: Math.round(pingNs) }));
    rows.push(await time('guard.ratelimit.redis', () => redis(args, context)));

    // Throughput: 64 calls in flight from one process for about two seconds.
    let calls = 0;
    const until = performance.now() + 2000;
    const lane = async () => {
      while (performance.now() < until) {
        await redis(args, context);
        calls += 1;
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 64 }, lane));
    const seconds = (performance.now() - t0) / 1000;
    rows.push(
      report({
        name: 'guard.ratelimit.redis.throughput',
        calls_per_s: Math.round(calls / seconds),
        in_flight: 64,
      }),
    );
  } finally {
    await deleteKeys(client, prefix);
    await client.quit();
  }
  return rows;
}
