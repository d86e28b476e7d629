import { Redis } from 'ioredis';

/** REDIS_URL, default the local server. */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const REQUIRED = process.env.TOOLGATE_REQUIRE_REDIS === '1';

/** Pings Redis at `url` once: `undefined` when it answers, else why not. Never throws. */
export async function probeRedis(url: string): Promise<string | undefined> {
  const probe = new Redis(url, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
    retryStrategy: () => null,
  });
  probe.on('error', () => {});
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (error) {
    return `no Redis at ${url} (${(error as Error).message})`;
  } finally {
    probe.disconnect();
  }
}

/**
 * Probes Redis once. Returns undefined when reachable, or the reason to skip; with
 * TOOLGATE_REQUIRE_REDIS=1 an unreachable Redis throws instead, so CI cannot skip silently.
 */
export async function redisSkipReason(): Promise<string | undefined> {
  const problem = await probeRedis(REDIS_URL);
  if (problem === undefined) return undefined;
  const reason = `${problem}; set REDIS_URL, or TOOLGATE_REQUIRE_REDIS=1 to fail instead`;
  if (REQUIRED) throw new Error(`TOOLGATE_REQUIRE_REDIS=1 but ${reason}`);
  console.warn(`skipping Redis tests: ${reason}`);
  return reason;
}

/** A unique key prefix for one test, and a cleanup that deletes every key under it. */
export function uniquePrefix(label: string): string {
  return `toolgate-test:${label}:${process.pid}:${Date.now().toString(36)}:${Math.random().toString(36).slice(2, 8)}:`;
}

export async function deleteKeys(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

export function newClient(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
}
