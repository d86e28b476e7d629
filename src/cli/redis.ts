import type { StateStore } from '../store/types.ts';
import { CliError, EXIT, importOptional, UsageError } from './failures.ts';

// Opening the Redis store for a command: a missing ioredis, a malformed URL and a server that does
// not answer each end in one line (src/cli/failures.ts), never in ioredis' own retry noise.

/** An open Redis store and how to close it. */
export interface OpenedRedis {
  readonly store: StateStore;
  close(): Promise<void>;
}

/** The URL with its password replaced, for messages. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url;
  }
}

/**
 * Connects to Redis at `url` and returns a `redisStore` on it. `reconnect`: keep reconnecting
 * after a lost connection (a long-running proxy); without it a short command fails at once.
 */
export async function openRedisStore(
  url: string,
  options: { prefix?: string | undefined; reconnect?: boolean; connectTimeoutMs?: number } = {},
): Promise<OpenedRedis> {
  if (!/^rediss?:\/\//.test(url))
    throw new UsageError(
      `a Redis URL starts with redis:// or rediss://, got ${JSON.stringify(redactUrl(url))}`,
    );
  const { Redis } = await importOptional<typeof import('ioredis')>('ioredis');
  const { redisStore } = await import('../backends/redis/index.ts');
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: options.connectTimeoutMs ?? 5_000,
    maxRetriesPerRequest: 1,
    ...(options.reconnect === true ? {} : { retryStrategy: () => null }),
  });
  let lastError: Error | undefined;
  // Connection errors are reported once, below; without a listener ioredis prints each of them.
  client.on('error', (error: Error) => {
    lastError = error;
  });
  try {
    await client.connect();
  } catch (error) {
    client.disconnect();
    // ioredis rejects with "Connection is closed."; the error event before it says why.
    const reason = lastError?.message ?? (error as Error)?.message ?? 'no answer';
    throw new CliError(`cannot reach Redis at ${redactUrl(url)}: ${reason}`, EXIT.unavailable, {
      cause: error,
    });
  }
  const store = redisStore(options.prefix === undefined ? { client } : { client, prefix: options.prefix });
  return {
    store,
    close: async () => {
      await store.close?.();
      client.disconnect();
    },
  };
}
