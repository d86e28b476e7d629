import type { JsonValue } from '../types.ts';
import { BudgetWindow } from './budget-window.ts';
import {
  checkAdmitRequest,
  checkSettleRequest,
  requirePositive,
  requirePositiveInteger,
  requireString,
  requireTime,
} from './check.ts';
import { RateWindow } from './rate-window.ts';
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
} from './types.ts';

interface MemoryRecord {
  json: string;
  expiresAt: number | undefined;
  uses: number;
}

/** Sweep expired state every this many writes, so idle keys never pile up. */
const SWEEP_EVERY = 1024;

/**
 * The default StateStore: state in this process's memory, so limits, grants and suspensions hold
 * for one process only (use `redisStore()` from `toolgate/redis` for many). Every operation is
 * synchronous and therefore atomic; expired state is swept as the store is used.
 *
 * @example
 * const tg = createGuard({ policy, store: memoryStore() });
 */
/** Shared empty list for absent parts of a request (no allocation per admit). */
const NONE: readonly never[] = Object.freeze([]);

/** The answer to every admitted request (frozen, so one object serves them all). */
const ADMITTED: AdmitResult = Object.freeze({ ok: true });

/**
 * Internal access to the built-in memory store for the limits step (not part of the StateStore
 * contract; other stores do not have it and are always asked through `admit`). Given the store's
 * current `admit`, it answers only while that is still the store's own and the store is open.
 */
export const LOCAL_STORE: unique symbol = Symbol('toolgate.localStore');

/** What `LOCAL_STORE` gives: synchronous, in this process. */
export interface LocalStore {
  /** True when no suspension is stored at all, so a suspension check cannot deny. */
  nothingSuspended(): boolean;
  /**
   * `admit` for requests the limits step built itself (well-formed by construction: not
   * re-checked). `fresh`: the holder's first admission (see `admitChecked`).
   */
  admit(request: AdmitRequest, fresh: boolean): AdmitResult;
}

export function memoryStore(): StateStore {
  const rates = new Map<string, RateWindow>();
  const budgets = new Map<string, BudgetWindow>();
  const semaphores = new Map<string, Map<string, number>>();
  const suspended = new Map<string, Suspension>();
  const collections = new Map<string, Map<string, MemoryRecord>>();
  const claims = new Map<string, number>();
  const channels = new Map<string, Set<(message: string) => void>>();
  let writes = 0;
  let closed = false;

  const open = () => {
    if (closed) throw new Error('toolgate: the memory store is closed');
  };

  const written = (now: number) => {
    writes += 1;
    if (writes % SWEEP_EVERY === 0) sweep(now);
  };

  const sweep = (now: number) => {
    for (const [key, log] of rates) if (log.until <= now) rates.delete(key);
    for (const [key, log] of budgets) if (log.until <= now) budgets.delete(key);
    for (const [key, holders] of semaphores) {
      for (const [holder, expiresAt] of holders) if (expiresAt <= now) holders.delete(holder);
      if (holders.size === 0) semaphores.delete(key);
    }
    for (const [key, entry] of suspended)
      if (entry.until !== undefined && entry.until <= now) suspended.delete(key);
    for (const [key, expiresAt] of claims) if (expiresAt <= now) claims.delete(key);
    for (const [name, records] of collections) {
      for (const [id, record] of records) if (isExpired(record, now)) records.delete(id);
      if (records.size === 0) collections.delete(name);
    }
  };

  const liveRecord = (collection: string, id: string, now: number): MemoryRecord | undefined => {
    const record = collections.get(collection)?.get(id);
    if (record === undefined) return undefined;
    if (isExpired(record, now)) {
      collections.get(collection)?.delete(id);
      return undefined;
    }
    return record;
  };

  /**
   * `fresh`: the caller (the limits step, for a call's first admission) knows `holder` was never
   * admitted, so its rate hits need no lookup and are not indexed.
   */
  const admitChecked = (request: AdmitRequest, fresh = false): AdmitResult => {
    const { now, holder } = request;
    for (const key of request.suspensions ?? NONE) {
      const entry = suspended.get(key);
      if (entry !== undefined && (entry.until === undefined || entry.until > now))
        return { ok: false, kind: 'suspended', key };
    }
    // Check everything first, then take everything: all or nothing.
    for (const check of request.rates ?? NONE) {
      const log = rates.get(check.key);
      if (log === undefined) {
        if (check.limit > 0) continue;
        return { ok: false, kind: 'rate', key: check.key, retryAfterMs: Math.max(1, check.windowMs) };
      }
      log.prune(now, check.windowMs);
      if (!fresh && log.holds(holder)) continue;
      if (log.size >= check.limit) {
        const oldest = log.timeFromEnd(check.limit);
        // A limit that is not a whole number has no such hit: wait the whole window.
        const retryAfterMs = Number.isFinite(oldest) ? oldest + check.windowMs - now : check.windowMs;
        return { ok: false, kind: 'rate', key: check.key, retryAfterMs: Math.max(1, retryAfterMs) };
      }
    }
    for (const check of request.semaphores ?? NONE) {
      const holders = semaphores.get(check.key);
      if (holders === undefined) continue;
      for (const [other, expiresAt] of holders) if (expiresAt <= now) holders.delete(other);
      if (!holders.has(holder) && holders.size >= check.limit)
        return { ok: false, kind: 'concurrency', key: check.key };
    }
    for (const check of request.budgets ?? NONE) {
      const log = budgets.get(check.key);
      log?.prune(now, check.windowMs);
      if (log?.holds(holder)) continue;
      // No window yet: the amount fits unless it is over the maximum on its own.
      const retryAfterMs = log
        ? log.retryAfter(check.amount, check.max, check.windowMs, now)
        : check.amount <= check.max
          ? 0
          : undefined;
      if (retryAfterMs !== 0) {
        return retryAfterMs === undefined
          ? { ok: false, kind: 'budget', key: check.key }
          : { ok: false, kind: 'budget', key: check.key, retryAfterMs };
      }
    }
    if (request.peek === true) return ADMITTED;

    const rateChecks = request.rates ?? NONE;
    // With several rate checks two may share a key: then the lookup keeps one hit per holder.
    const unindexed = fresh && rateChecks.length === 1;
    for (let index = 0; index < rateChecks.length; index++) {
      const check = rateChecks[index]!;
      let log = rates.get(check.key);
      if (log === undefined) {
        log = new RateWindow();
        rates.set(check.key, log);
      }
      if (!unindexed && log.holds(holder)) continue;
      log.add(now, holder, !unindexed);
      log.until = Math.max(log.until, now + check.windowMs);
    }
    for (const check of request.semaphores ?? NONE) {
      let holders = semaphores.get(check.key);
      if (holders === undefined) {
        holders = new Map();
        semaphores.set(check.key, holders);
      }
      holders.set(holder, now + check.leaseMs);
    }
    for (const check of request.budgets ?? NONE) {
      let log = budgets.get(check.key);
      if (log === undefined) {
        log = new BudgetWindow();
        budgets.set(check.key, log);
      }
      if (log.holds(holder)) continue;
      log.reserve(now, holder, check.amount);
      log.until = Math.max(log.until, now + check.windowMs);
    }
    written(now);
    return ADMITTED;
  };

  const store: StateStore = {
    name: 'memory',

    admit(request: AdmitRequest): AdmitResult {
      open();
      checkAdmitRequest(request);
      return admitChecked(request);
    },

    settle(request: SettleRequest): void {
      open();
      checkSettleRequest(request);
      for (const key of request.semaphores ?? []) {
        const holders = semaphores.get(key);
        holders?.delete(request.holder);
        if (holders?.size === 0) semaphores.delete(key);
      }
      if (request.ran) return;
      for (const key of request.budgets ?? []) {
        const log = budgets.get(key);
        if (log === undefined) continue;
        log.release(request.holder);
        if (log.empty) budgets.delete(key);
      }
    },

    suspend(key: string, entry: Suspension): void {
      open();
      requireString(key, 'key');
      requireTime(entry.at, 'entry.at');
      if (entry.until !== undefined) requireTime(entry.until, 'entry.until');
      const stored: { at: number; until?: number; reason?: string } = { at: entry.at };
      if (entry.until !== undefined) stored.until = entry.until;
      if (entry.reason !== undefined) stored.reason = String(entry.reason);
      suspended.set(key, Object.freeze(stored));
      written(entry.at);
    },

    resume(key: string, now: number): boolean {
      open();
      const entry = suspended.get(key);
      suspended.delete(key);
      return entry !== undefined && (entry.until === undefined || entry.until > now);
    },

    suspensions(now: number): readonly SuspensionRecord[] {
      open();
      const result: SuspensionRecord[] = [];
      for (const [key, entry] of suspended) {
        if (entry.until === undefined || entry.until > now) result.push(Object.freeze({ key, ...entry }));
      }
      return result;
    },

    put(collection: string, id: string, value: JsonValue, options: PutOptions): void {
      open();
      requireString(collection, 'collection');
      requireString(id, 'id');
      requireTime(options.now, 'now');
      const json = JSON.stringify(value);
      if (typeof json !== 'string') throw new TypeError('toolgate: a stored record must be JSON data');
      let expiresAt: number | undefined;
      if (options.ttlMs !== undefined) {
        requirePositive(options.ttlMs, 'ttlMs');
        expiresAt = options.now + options.ttlMs;
      }
      let records = collections.get(collection);
      if (records === undefined) {
        records = new Map();
        collections.set(collection, records);
      }
      records.set(id, { json, expiresAt, uses: 0 });
      written(options.now);
    },

    get(collection: string, id: string, now: number): StoredRecord | undefined {
      open();
      const record = liveRecord(collection, id, now);
      return record === undefined ? undefined : toStored(id, record);
    },

    list(collection: string, now: number): readonly StoredRecord[] {
      open();
      const records = collections.get(collection);
      if (records === undefined) return [];
      const result: StoredRecord[] = [];
      for (const [id, record] of records) {
        if (isExpired(record, now)) records.delete(id);
        else result.push(toStored(id, record));
      }
      return result;
    },

    delete(collection: string, id: string): boolean {
      open();
      const records = collections.get(collection);
      const existed = records?.delete(id) ?? false;
      if (records?.size === 0) collections.delete(collection);
      return existed;
    },

    use(collection: string, id: string, options: UseOptions): UseResult {
      open();
      requirePositiveInteger(options.max, 'max');
      requireTime(options.now, 'now');
      const record = liveRecord(collection, id, options.now);
      if (record === undefined) return { ok: false, found: false, uses: 0 };
      if (record.uses >= options.max) return { ok: false, found: true, uses: record.uses };
      if (options.peek === true) return { ok: true, found: true, uses: record.uses + 1 };
      record.uses += 1;
      return { ok: true, found: true, uses: record.uses };
    },

    claim(key: string, options: ClaimOptions): boolean {
      open();
      requireString(key, 'key');
      requireTime(options.now, 'now');
      requirePositive(options.ttlMs, 'ttlMs');
      const expiresAt = claims.get(key);
      if (expiresAt !== undefined && expiresAt > options.now) return false;
      claims.set(key, options.now + options.ttlMs);
      written(options.now);
      return true;
    },

    subscribe(channel: string, listener: (message: string) => void): Unsubscribe {
      open();
      requireString(channel, 'channel');
      if (typeof listener !== 'function') throw new TypeError('toolgate: listener must be a function');
      let listeners = channels.get(channel);
      if (listeners === undefined) {
        listeners = new Set();
        channels.set(channel, listeners);
      }
      // A wrapper per subscription, so subscribing the same function twice gives two subscriptions.
      const entry = (message: string) => listener(message);
      listeners.add(entry);
      return () => {
        const current = channels.get(channel);
        current?.delete(entry);
        if (current?.size === 0) channels.delete(channel);
      };
    },

    notify(channel: string, message: string): void {
      open();
      requireString(channel, 'channel');
      const listeners = channels.get(channel);
      if (listeners === undefined) return;
      const text = String(message);
      // Delivered on a microtask, like a message from another process: never inside the caller.
      for (const listener of [...listeners]) {
        queueMicrotask(() => {
          try {
            listener(text);
          } catch {
            // A listener's failure is its own; the notifier and other listeners carry on.
          }
        });
      }
    },

    close(): void {
      closed = true;
      rates.clear();
      budgets.clear();
      semaphores.clear();
      suspended.clear();
      collections.clear();
      claims.clear();
      channels.clear();
    },
  };
  // For the limits step (see LOCAL_STORE). Not enumerable, so a spread copy does not inherit it.
  const admit = store.admit;
  const local: LocalStore = {
    nothingSuspended: () => suspended.size === 0,
    admit: (request, fresh) => {
      open();
      return admitChecked(request, fresh);
    },
  };
  Object.defineProperty(store, LOCAL_STORE, {
    value: (current: unknown) => (current === admit && !closed ? local : undefined),
  });
  return store;
}

function isExpired(record: MemoryRecord, now: number): boolean {
  return record.expiresAt !== undefined && record.expiresAt <= now;
}

function toStored(id: string, record: MemoryRecord): StoredRecord {
  const stored: { id: string; value: JsonValue; expiresAt?: number; uses: number } = {
    id,
    value: JSON.parse(record.json) as JsonValue,
    uses: record.uses,
  };
  if (record.expiresAt !== undefined) stored.expiresAt = record.expiresAt;
  return stored;
}
