import { Redis } from 'ioredis';
import { describe, it } from 'vitest';
import { redisStore } from '../../../src/backends/redis/index.ts';
import { testStateStore } from '../../../src/testing/state-store.ts';
import { deleteKeys, newClient, REDIS_URL, redisSkipReason, uniquePrefix } from '../../store/redis-env.ts';

// An ioredis client with a `keyPrefix` of its own puts it before every key it sends, the keys of
// the store's scripts included: every operation works as with a client without one.

const skip = await redisSkipReason();
testStateStore('redis, client with a keyPrefix', {
  runner: { describe, it },
  ...(skip === undefined ? {} : { skip }),
  create: async () => {
    const keyPrefix = uniquePrefix('client-key-prefix');
    const client = new Redis(REDIS_URL, { maxRetriesPerRequest: 1, keyPrefix });
    return {
      store: redisStore({ client, prefix: 'app:' }),
      cleanup: async () => {
        const plain = newClient();
        await deleteKeys(plain, keyPrefix);
        await plain.quit();
        await client.quit();
      },
    };
  },
});
