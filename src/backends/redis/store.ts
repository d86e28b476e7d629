import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import {
  checkAdmitRequest,
  checkSettleRequest,
  requirePositive,
  requirePositiveInteger,
  requireString,
  requireTime,
} from '../../store/check.ts';
import type {
  AdmitRequest,
  AdmitResult,
  ClaimOptions,
  PutOptions,
  SettleRequest,
  StateStore,
  StoredRecord,
  Suspension,
  SuspensionRecord,
  Unsubscribe,
  UseOptions,
  UseResult,
} from '../../store/types.ts';
import type { JsonValue } from '../../types.ts';
import { RedisChannels } from './channels.ts';
import {
  ADMIT,
  CLAIM,
  DELETE,
  GC_MARGIN_MS,
  LIST,
  MAX_TTL_MS,
  PUT,
  RESUME,
  SETTLE,
  SUSPEND,
  USE,
} from './scripts.ts';

/** Options of `redisStore`. */
export interface RedisStoreOptions {
  /**
   * An ioredis client (`new Redis(url)`). The store never closes it: the host owns it. For
   * pub/sub the store opens one extra connection with `client.duplicate()`, closed by `close()`.
   */
  client: Redis | Cluster;
  /**
   * Prefix of every key and channel, so several apps can share one Redis. For Redis Cluster,
   * include a hash tag such as `'{toolgate}:'` so each operation's keys share a slot.
   * @default 'toolgate:'
   */
  prefix?: string;
}

const KINDS = ['suspended', 'rate', 'concurrency', 'budget'] as const;

interface Script {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const SCRIPTS = {
  admit: script(ADMIT),
  settle: script(SETTLE),
  suspend: script(SUSPEND),
  resume: script(RESUME),
  put: script(PUT),
  list: script(LIST),
  delete: script(DELETE),
  use: script(USE),
  claim: script(CLAIM),
};

/**
 * A StateStore in Redis, shared by every process that uses the same Redis and prefix: rate limits,
 * concurrency slots, budgets, suspensions, grants and pending approvals then hold across all of
 * them. Each operation is one Lua script (atomic, one round trip; `EVALSHA`, falling back to
 * `EVAL` once after a script-cache flush). Time comes from the callers' clocks, so keep process
 * clocks in sync (NTP); keys expire in Redis time only as garbage collection.
 *
 * @example
 * import { Redis } from 'ioredis';
 * import { redisStore } from 'toolgate/redis';
 * const tg = createGuard({ policy, store: redisStore({ client: new Redis(process.env.REDIS_URL) }) });
 */
export function redisStore(
  options: RedisStoreOptions,
): StateStore & Required<Pick<StateStore, 'claim' | 'subscribe' | 'notify' | 'close'>> {
  if (typeof options !== 'object' || options === null || typeof options.client?.evalsha !== 'function')
    throw new TypeError('toolgate: redisStore() needs { client } with an ioredis client');
  const client = options.client;
  const prefix = options.prefix ?? 'toolgate:';
  if (typeof prefix !== 'string') throw new TypeError('toolgate: redisStore() prefix must be a string');
  const suspensionsKey = `${prefix}s`;
  const recordKey = (collection: string, id: string) => `${prefix}d:${collection.length}:${collection}:${id}`;
  // The record and index keys after the prefix (the LIST script builds record keys from these).
  const recordPart = (collection: string) => `d:${collection.length}:${collection}:`;
  const indexPart = (collection: string) => `i:${collection}`;
  const indexKey = (collection: string) => `${prefix}${indexPart(collection)}`;
  const channelName = (channel: string) => `${prefix}n:${channel}`;

  const channels = new RedisChannels(client);
  let closed = false;

  const run = async (
    which: Script,
    keys: readonly string[],
    args: readonly (string | number)[],
  ): Promise<unknown> => {
    if (closed) throw new Error('toolgate: the redis store is closed');
    try {
      return await client.evalsha(which.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!String((error as Error)?.message).startsWith('NOSCRIPT')) throw error;
      return client.eval(which.source, keys.length, ...keys, ...args);
    }
  };

  return {
    name: 'redis',

    async admit(request: AdmitRequest): Promise<AdmitResult> {
      checkAdmitRequest(request);
      const suspensions = request.suspensions ?? [];
      const rates = request.rates ?? [];
      const semaphores = request.semaphores ?? [];
      const budgets = request.budgets ?? [];
      const keys: string[] = [suspensionsKey];
      for (const check of rates) keys.push(`${prefix}r:${check.key}`);
      for (const check of semaphores) keys.push(`${prefix}c:${check.key}`);
      for (const check of budgets) keys.push(`${prefix}b:${check.key}`);
      for (const check of budgets) keys.push(`${prefix}ba:${check.key}`);
      const args: (string | number)[] = [
        String(request.now),
        String(request.now),
        request.holder,
        request.peek === true ? '1' : '0',
        GC_MARGIN_MS,
        suspensions.length,
        rates.length,
        semaphores.length,
        budgets.length,
        ...suspensions,
      ];
      for (const check of rates) args.push(check.limit, String(check.windowMs));
      for (const check of semaphores) args.push(check.limit, String(check.leaseMs));
      for (const check of budgets) args.push(String(check.amount), String(check.max), String(check.windowMs));
      const reply = (await run(SCRIPTS.admit, keys, args)) as number[];
      if (!Array.isArray(reply)) throw new Error('toolgate: unexpected reply from redis');
      if (reply[0] === 1) return { ok: true };
      const kind = KINDS[(reply[1] ?? 0) - 1];
      const index = (reply[2] ?? 0) - 1;
      if (kind === undefined) throw new Error('toolgate: unexpected reply from redis');
      const lists = {
        suspended: suspensions,
        rate: rates.map((c) => c.key),
        concurrency: semaphores.map((c) => c.key),
        budget: budgets.map((c) => c.key),
      };
      const key = lists[kind][index];
      if (key === undefined) throw new Error('toolgate: unexpected reply from redis');
      const retry = reply[3];
      return typeof retry === 'number' && retry >= 0
        ? { ok: false, kind, key, retryAfterMs: retry }
        : { ok: false, kind, key };
    },

    async settle(request: SettleRequest): Promise<void> {
      checkSettleRequest(request);
      const semaphores = request.semaphores ?? [];
      const budgets = request.ran ? [] : (request.budgets ?? []);
      if (semaphores.length === 0 && budgets.length === 0) return;
      const keys = [
        ...semaphores.map((key) => `${prefix}c:${key}`),
        ...budgets.map((key) => `${prefix}b:${key}`),
        ...budgets.map((key) => `${prefix}ba:${key}`),
      ];
      await run(SCRIPTS.settle, keys, [
        request.holder,
        request.ran ? '1' : '0',
        semaphores.length,
        budgets.length,
      ]);
    },

    async suspend(key: string, entry: Suspension): Promise<void> {
      requireString(key, 'key');
      requireTime(entry.at, 'entry.at');
      if (entry.until !== undefined) requireTime(entry.until, 'entry.until');
      const stored: { at: number; until?: number; reason?: string } = { at: entry.at };
      if (entry.until !== undefined) stored.until = entry.until;
      if (entry.reason !== undefined) stored.reason = String(entry.reason);
      await run(
        SCRIPTS.suspend,
        [suspensionsKey],
        [key, JSON.stringify(stored), String(entry.at), GC_MARGIN_MS],
      );
    },

    async resume(key: string, now: number): Promise<boolean> {
      requireString(key, 'key');
      requireTime(now, 'now');
      return (await run(SCRIPTS.resume, [suspensionsKey], [key, String(now)])) === 1;
    },

    async suspensions(now: number): Promise<readonly SuspensionRecord[]> {
      requireTime(now, 'now');
      if (closed) throw new Error('toolgate: the redis store is closed');
      const all = await client.hgetall(suspensionsKey);
      const result: SuspensionRecord[] = [];
      for (const [key, text] of Object.entries(all)) {
        const entry = JSON.parse(text) as { at: number; until?: number; reason?: string };
        if (entry.until === undefined || entry.until > now) result.push(Object.freeze({ key, ...entry }));
      }
      return result;
    },

    async put(collection: string, id: string, value: JsonValue, options: PutOptions): Promise<void> {
      requireString(collection, 'collection');
      requireString(id, 'id');
      requireTime(options.now, 'now');
      const json = JSON.stringify(value);
      if (typeof json !== 'string') throw new TypeError('toolgate: a stored record must be JSON data');
      let expiresAt = '';
      let gc = '';
      if (options.ttlMs !== undefined) {
        requirePositive(options.ttlMs, 'ttlMs');
        expiresAt = String(options.now + options.ttlMs);
        gc = gcTtl(options.ttlMs);
      }
      await run(SCRIPTS.put, [recordKey(collection, id), indexKey(collection)], [id, json, expiresAt, gc]);
    },

    async get(collection: string, id: string, now: number): Promise<StoredRecord | undefined> {
      requireString(collection, 'collection');
      requireString(id, 'id');
      requireTime(now, 'now');
      if (closed) throw new Error('toolgate: the redis store is closed');
      const [json, expires, uses] = await client.hmget(recordKey(collection, id), 'v', 'e', 'u');
      return toStored(id, json, expires, uses, now);
    },

    async list(collection: string, now: number): Promise<readonly StoredRecord[]> {
      requireString(collection, 'collection');
      requireTime(now, 'now');
      const reply = (await run(
        SCRIPTS.list,
        [indexKey(collection)],
        [recordPart(collection), String(now), indexPart(collection)],
      )) as string[];
      const result: StoredRecord[] = [];
      for (let i = 0; i + 3 < reply.length; i += 4) {
        const record = toStored(reply[i] as string, reply[i + 1], reply[i + 2], reply[i + 3], now);
        if (record !== undefined) result.push(record);
      }
      return result;
    },

    async delete(collection: string, id: string): Promise<boolean> {
      requireString(collection, 'collection');
      requireString(id, 'id');
      return (await run(SCRIPTS.delete, [recordKey(collection, id), indexKey(collection)], [id])) === 1;
    },

    async use(collection: string, id: string, options: UseOptions): Promise<UseResult> {
      requireString(collection, 'collection');
      requireString(id, 'id');
      requireTime(options.now, 'now');
      requirePositiveInteger(options.max, 'max');
      const reply = (await run(
        SCRIPTS.use,
        [recordKey(collection, id)],
        [String(options.now), options.max, options.peek === true ? '1' : '0'],
      )) as number[];
      return { ok: reply[0] === 1, found: reply[1] === 1, uses: Number(reply[2] ?? 0) };
    },

    async claim(key: string, options: ClaimOptions): Promise<boolean> {
      requireString(key, 'key');
      requireTime(options.now, 'now');
      requirePositive(options.ttlMs, 'ttlMs');
      const expiresAt = String(options.now + options.ttlMs);
      const gc = gcTtl(options.ttlMs);
      return (await run(SCRIPTS.claim, [`${prefix}k:${key}`], [String(options.now), expiresAt, gc])) === 1;
    },

    async subscribe(channel: string, listener: (message: string) => void): Promise<Unsubscribe> {
      requireString(channel, 'channel');
      if (typeof listener !== 'function') throw new TypeError('toolgate: listener must be a function');
      if (closed) throw new Error('toolgate: the redis store is closed');
      return channels.subscribe(channelName(channel), listener);
    },

    async notify(channel: string, message: string): Promise<void> {
      requireString(channel, 'channel');
      if (closed) throw new Error('toolgate: the redis store is closed');
      await client.publish(channelName(channel), String(message));
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await channels.close();
    },
  };
}

/** A record's garbage-collection TTL as Redis takes it: whole ms, at most MAX_TTL_MS (never `1e+21`). */
function gcTtl(ttlMs: number): string {
  return String(Math.min(Math.ceil(ttlMs + GC_MARGIN_MS), MAX_TTL_MS));
}

function toStored(
  id: string,
  json: string | null | undefined,
  expires: string | null | undefined,
  uses: string | null | undefined,
  now: number,
): StoredRecord | undefined {
  if (json === null || json === undefined) return undefined;
  const expiresAt = expires === null || expires === undefined || expires === '' ? undefined : Number(expires);
  if (expiresAt !== undefined && expiresAt <= now) return undefined;
  const record: { id: string; value: JsonValue; expiresAt?: number; uses: number } = {
    id,
    value: JSON.parse(json) as JsonValue,
    uses: Number(uses ?? 0),
  };
  if (expiresAt !== undefined) record.expiresAt = expiresAt;
  return record;
}
