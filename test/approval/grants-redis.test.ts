import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/backends/redis/index.ts';
import type { Decision, StateStore } from '../../src/index.ts';
import { newClient, redisSkipReason } from '../store/redis-env.ts';
import { engine, ofType, setup } from './helpers.ts';

const NO_RULE: Decision = {
  type: 'deny',
  rules: [],
  code: 'NO_MATCHING_RULE',
  reason: 'no rule allows this call',
};

// G13: grants behave the same on the Redis store, shared by two guards with their own connections.
const redisSkip = await redisSkipReason();

describe.skipIf(redisSkip !== undefined)('grants on the Redis store', () => {
  const prefix = `tg-grants-test:${process.pid}:${Date.now()}:`;
  const clients: Redis[] = [];
  const stores: StateStore[] = [];

  beforeAll(() => {
    for (let i = 0; i < 2; i++) {
      const client = newClient();
      clients.push(client);
      stores.push(redisStore({ client, prefix }));
    }
  });

  afterAll(async () => {
    const keys = await clients[0]!.keys(`${prefix}*`);
    if (keys.length > 0) await clients[0]!.del(...keys);
    for (const store of stores) await store.close?.();
    for (const client of clients) client.disconnect();
  });

  it('a grant issued by one guard applies in another; maxUses holds across both; revoke is shared', async () => {
    const one = setup({ policy: engine(() => NO_RULE), store: stores[0]! });
    const two = setup({ policy: engine(() => NO_RULE), store: stores[1]! });
    const grant = await one.tg.grants.issue({
      tool: 'db.query',
      when: { 'args.table': { eq: 'orders' } },
      maxUses: 6,
      for: '1h',
    });
    expect((await two.tg.grants.list()).map((g) => g.id)).toEqual([grant.id]);
    const a = one.tg.guard(() => 'a', { name: 'db.query' });
    const b = two.tg.guard(() => 'b', { name: 'db.query' });
    await expect(b({ table: 'customers' })).resolves.toMatchObject({ code: 'NO_MATCHING_RULE' });
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b)({ table: 'orders' })),
    );
    expect(results.filter((r) => typeof r === 'string')).toHaveLength(6);
    expect(
      ofType(one.audit.events, 'grant-used').length + ofType(two.audit.events, 'grant-used').length,
    ).toBe(6);
    const other = await one.tg.grants.issue({ tool: 'db.*', for: '1h' });
    await expect(b({ table: 'x' })).resolves.toBe('b');
    expect(await two.tg.grants.revoke(other.id)).toBe(true);
    await expect(a({ table: 'x' })).resolves.toMatchObject({ code: 'NO_MATCHING_RULE' });
  });
});
