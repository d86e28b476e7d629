import { describe, expect, it } from 'vitest';
import { redisStore } from '../../../src/backends/redis/index.ts';
import { GC_MARGIN_MS } from '../../../src/backends/redis/scripts.ts';
import { uniquePrefix } from '../../store/redis-env.ts';
import { fileRedis } from '../../store/stores.ts';

// Suspensions with an end (`tg.suspend({ …, for })`, identity revocations of credentials that
// expire) live in one hash that has no TTL: it keeps only what can still refuse a call, so it
// does not grow with every suspension ever made.

const { skip, client, prefixes } = await fileRedis();

describe.skipIf(skip !== undefined)('the Redis suspensions hash', () => {
  it('drops entries that lapsed (past a margin for clocks) when a suspension is written', async () => {
    const prefix = uniquePrefix('suspensions-gc');
    prefixes.push(prefix);
    const store = redisStore({ client: client!, prefix });
    const t0 = Date.UTC(2026, 0, 1);
    for (let i = 0; i < 50; i++) await store.suspend(`session=s${i}`, { at: t0, until: t0 + 1000 });
    await store.suspend('tool=forever', { at: t0 });
    await store.suspend('session=later', { at: t0, until: t0 + 10 * GC_MARGIN_MS });
    // Lapsed, but within the margin: kept (a process whose clock runs behind still counts them).
    await store.suspend('agent=a', { at: t0 + 1000 + GC_MARGIN_MS - 1 });
    expect(await client!.hlen(`${prefix}s`)).toBe(53);
    await store.suspend('agent=b', { at: t0 + 1000 + GC_MARGIN_MS });
    expect((await client!.hkeys(`${prefix}s`)).sort()).toEqual(
      ['agent=a', 'agent=b', 'session=later', 'tool=forever'].sort(),
    );
    const listed = await store.suspensions(t0 + 2 * GC_MARGIN_MS);
    expect(listed.map((entry) => entry.key).sort()).toEqual(
      ['agent=a', 'agent=b', 'session=later', 'tool=forever'].sort(),
    );
    expect(await store.admit({ now: t0 + 2000, holder: 'h', suspensions: ['session=later'] })).toMatchObject({
      ok: false,
      kind: 'suspended',
    });
  });
});
