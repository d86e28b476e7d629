import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { redisStore } from '../../../src/backends/redis/index.ts';
import { createGuard } from '../../../src/guard.ts';

describe('redisStore when Redis is unreachable', () => {
  it('denies with STORE_UNAVAILABLE and never runs the tool', async () => {
    // Port 1 on loopback: nothing listens there, so every command fails or waits to reconnect.
    const client = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => 50,
    });
    client.on('error', () => {});
    let ran = false;
    const tg = createGuard({
      onDeny: 'return',
      store: redisStore({ client, prefix: 'toolgate-test:unreachable:' }),
      defaults: { storeTimeout: 200 },
      policy: { name: 'p', evaluate: () => ({ type: 'allow', rules: ['r'] }) },
    });
    const tool = tg.guard(
      () => {
        ran = true;
      },
      { name: 't' },
    );
    expect(await tool({})).toMatchObject({ denied: true, code: 'STORE_UNAVAILABLE' });
    expect(await tg.check('t', {})).toMatchObject({ type: 'deny', code: 'STORE_UNAVAILABLE' });
    expect(ran).toBe(false);
    client.disconnect();
  });

  it('refuses options without an ioredis client', () => {
    expect(() => redisStore({} as never)).toThrow(/ioredis client/);
  });
});
