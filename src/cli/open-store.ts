import type { StateStore } from '../store/types.ts';

/** A store opened from a URL, and how to close it. */
export interface OpenedStore {
  readonly store: StateStore;
  close(): Promise<void>;
}

/** Loads ioredis (injectable, so the "not installed" answer can be tested). */
export type RedisLoader = () => Promise<{ Redis: new (url: string, options: object) => unknown }>;

const loadIoredis: RedisLoader = () => import('ioredis') as never;

/** Thrown with one line that says what is wrong and what to do. */
export class StoreOpenError extends Error {}

/**
 * Opens the shared store named by `--store`: `redis://` or `rediss://` (ioredis, an optional peer
 * dependency). Connects before answering, so a missing package, a bad URL or a server that does
 * not answer each give one line instead of a stack.
 */
export async function openStore(
  url: string,
  prefix: string | undefined,
  load: RedisLoader = loadIoredis,
): Promise<OpenedStore> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StoreOpenError(`--store ${JSON.stringify(url)} is not a URL; give redis://host:6379`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new StoreOpenError(`--store must be a redis:// or rediss:// URL (got ${parsed.protocol}//)`);
  const shown = redact(parsed);
  let Redis: Awaited<ReturnType<RedisLoader>>['Redis'];
  try {
    ({ Redis } = await load());
  } catch {
    throw new StoreOpenError(`--store ${shown} needs the ioredis package: npm install ioredis`);
  }
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3_000,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  }) as import('ioredis').Redis;
  // The connection's own error (ECONNREFUSED, ENOTFOUND, …) arrives as an event; connect()
  // itself only says the connection closed.
  let cause: unknown;
  (client as unknown as { on(event: 'error', listener: (error: unknown) => void): void }).on(
    'error',
    (error) => {
      cause ??= error;
    },
  );
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    const failure = (cause ?? error) as { code?: string; message?: string } | undefined;
    const reason = failure?.code ?? failure?.message ?? 'no answer';
    throw new StoreOpenError(
      `cannot reach Redis at ${shown} (${reason}); is it running, and is the URL right?`,
    );
  }
  const { redisStore } = await import('../backends/redis/index.ts');
  const store = redisStore(prefix === undefined ? { client } : { client, prefix });
  return {
    store,
    async close() {
      await store.close?.();
      client.disconnect();
    },
  };
}

/** The URL without its password, for messages. */
function redact(url: URL): string {
  const copy = new URL(url.href);
  if (copy.password !== '') copy.password = '***';
  return copy.href;
}
