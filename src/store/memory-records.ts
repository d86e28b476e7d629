import type { JsonValue } from '../types.ts';
import { requirePositive, requirePositiveInteger, requireString, requireTime } from './check.ts';
import type { ClaimOptions, PutOptions, StoredRecord, Unsubscribe, UseOptions, UseResult } from './types.ts';

// The records, claims and channels of the memory store (src/store/memory.ts), which grants and
// approvals keep in this process. The store checks that it is open and counts writes for its
// sweep; everything else about records is here.

interface MemoryRecord {
  json: string;
  expiresAt: number | undefined;
  uses: number;
}

/** Collections of records with optional expiry and use counts, claims, and channels. */
export class MemoryRecords {
  readonly #collections = new Map<string, Map<string, MemoryRecord>>();
  readonly #claims = new Map<string, number>();
  readonly #channels = new Map<string, Set<(message: string) => void>>();

  put(collection: string, id: string, value: JsonValue, options: PutOptions): void {
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
    let records = this.#collections.get(collection);
    if (records === undefined) {
      records = new Map();
      this.#collections.set(collection, records);
    }
    records.set(id, { json, expiresAt, uses: 0 });
  }

  get(collection: string, id: string, now: number): StoredRecord | undefined {
    const record = this.#live(collection, id, now);
    return record === undefined ? undefined : toStored(id, record);
  }

  list(collection: string, now: number): readonly StoredRecord[] {
    const records = this.#collections.get(collection);
    if (records === undefined) return [];
    const result: StoredRecord[] = [];
    for (const [id, record] of records) {
      if (isExpired(record, now)) records.delete(id);
      else result.push(toStored(id, record));
    }
    return result;
  }

  delete(collection: string, id: string): boolean {
    const records = this.#collections.get(collection);
    const existed = records?.delete(id) ?? false;
    if (records?.size === 0) this.#collections.delete(collection);
    return existed;
  }

  use(collection: string, id: string, options: UseOptions): UseResult {
    requirePositiveInteger(options.max, 'max');
    requireTime(options.now, 'now');
    const record = this.#live(collection, id, options.now);
    if (record === undefined) return { ok: false, found: false, uses: 0 };
    if (record.uses >= options.max) return { ok: false, found: true, uses: record.uses };
    if (options.peek === true) return { ok: true, found: true, uses: record.uses + 1 };
    record.uses += 1;
    return { ok: true, found: true, uses: record.uses };
  }

  claim(key: string, options: ClaimOptions): boolean {
    requireString(key, 'key');
    requireTime(options.now, 'now');
    requirePositive(options.ttlMs, 'ttlMs');
    const expiresAt = this.#claims.get(key);
    if (expiresAt !== undefined && expiresAt > options.now) return false;
    this.#claims.set(key, options.now + options.ttlMs);
    return true;
  }

  subscribe(channel: string, listener: (message: string) => void): Unsubscribe {
    requireString(channel, 'channel');
    if (typeof listener !== 'function') throw new TypeError('toolgate: listener must be a function');
    let listeners = this.#channels.get(channel);
    if (listeners === undefined) {
      listeners = new Set();
      this.#channels.set(channel, listeners);
    }
    // A wrapper per subscription, so subscribing the same function twice gives two subscriptions.
    const entry = (message: string) => listener(message);
    listeners.add(entry);
    return () => {
      const current = this.#channels.get(channel);
      current?.delete(entry);
      if (current?.size === 0) this.#channels.delete(channel);
    };
  }

  notify(channel: string, message: string): void {
    requireString(channel, 'channel');
    const listeners = this.#channels.get(channel);
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
  }

  #live(collection: string, id: string, now: number): MemoryRecord | undefined {
    const record = this.#collections.get(collection)?.get(id);
    if (record === undefined) return undefined;
    if (isExpired(record, now)) {
      this.#collections.get(collection)?.delete(id);
      return undefined;
    }
    return record;
  }

  /** Drops expired records and claims. */
  sweep(now: number): void {
    for (const [key, expiresAt] of this.#claims) if (expiresAt <= now) this.#claims.delete(key);
    for (const [name, records] of this.#collections) {
      for (const [id, record] of records) if (isExpired(record, now)) records.delete(id);
      if (records.size === 0) this.#collections.delete(name);
    }
  }

  clear(): void {
    this.#collections.clear();
    this.#claims.clear();
    this.#channels.clear();
  }
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
