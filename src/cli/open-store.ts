import { type OpenedRedis, openRedisStore } from './redis.ts';

// The shared store named by `--store` (`toolgate agents`, `toolgate mcp-proxy --listen`): Redis,
// opened the one way every command opens it (src/cli/redis.ts), so its failures carry the same
// exit codes (docs/cli.md): 2 for a URL that is not redis://, 4 for a server that does not
// answer, 5 for ioredis not installed.

/** A store opened from a URL, and how to close it. */
export type OpenedStore = OpenedRedis;

/**
 * Opens the shared store named by `--store`: `redis://` or `rediss://` (ioredis, an optional peer
 * dependency). Connects before answering, so a missing package, a bad URL or a server that does
 * not answer each give one line (a CliError) instead of a stack.
 */
export function openStore(url: string, prefix: string | undefined): Promise<OpenedStore> {
  return openRedisStore(url, { prefix, connectTimeoutMs: 3_000 });
}
