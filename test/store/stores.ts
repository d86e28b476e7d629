// The stores a test runs on: memory always, Redis when one answers (each store on a fresh
// key prefix, deleted after the file's tests). `redisSkipReason` prints why Redis is skipped.

import type { Redis } from 'ioredis';
import { afterAll } from 'vitest';
import { redisStore } from '../../src/backends/redis/index.ts';
import { memoryStore } from '../../src/store/memory.ts';
import type { StateStore } from '../../src/store/types.ts';
import { deleteKeys, newClient, redisSkipReason } from './redis-env.ts';

/** `[name, make]` pairs for `describe.each`; call once per test file, at its top level. */
export async function testStores(label: string): Promise<[string, () => StateStore][]> {
  const { client, prefixes } = await fileRedis();
  const stores: [string, () => StateStore][] = [['memory', () => memoryStore()]];
  if (client !== undefined)
    stores.push([
      'redis',
      () => {
        const prefix = `${label}:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`;
        prefixes.push(prefix);
        return redisStore({ client, prefix });
      },
    ]);
  return stores;
}

/**
 * The Redis client of one test file (undefined, with the reason, when none answers) and the key
 * prefixes it used, deleted after the file's tests. Call once per file, at its top level.
 */
export async function fileRedis(): Promise<{
  skip: string | undefined;
  client: Redis | undefined;
  prefixes: string[];
}> {
  const skip = await redisSkipReason();
  const client = skip === undefined ? newClient() : undefined;
  const prefixes: string[] = [];
  afterAll(async () => {
    if (client !== undefined) for (const p of prefixes) await deleteKeys(client, p);
    client?.disconnect();
  });
  return { skip, client, prefixes };
}
