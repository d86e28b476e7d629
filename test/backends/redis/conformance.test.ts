import { describe, it } from 'vitest';
import { redisStore } from '../../../src/backends/redis/index.ts';
import { testStateStore } from '../../../src/testing/state-store.ts';
import { deleteKeys, newClient, redisSkipReason, uniquePrefix } from '../../store/redis-env.ts';

const skip = await redisSkipReason();
testStateStore('redis', {
  runner: { describe, it },
  ...(skip === undefined ? {} : { skip }),
  create: async () => {
    const client = newClient();
    const prefix = uniquePrefix('conformance');
    return {
      store: redisStore({ client, prefix }),
      cleanup: async () => {
        await deleteKeys(client, prefix);
        await client.quit();
      },
    };
  },
});
