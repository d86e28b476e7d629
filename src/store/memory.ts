import type { JsonValue } from '../types.ts';
import { BudgetWindow } from './budget-window.ts';
import { checkAdmitRequest, checkSettleRequest, requireString, requireTime } from './check.ts';
import { MemoryRecords } from './memory-records.ts';
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
  SyncAdmission,
  Unsubscribe,
  UseOptions,
  UseResult,
} from './types.ts';

/** Sweep expired state every this many writes, so idle keys never pile up. */
const SWEEP_EVERY = 1024;

/** Shared empty list for absent parts of a request (no allocation per admit). */
const NONE: readonly never[] = Object.freeze([]);

/** The answer to every admitted request (frozen, so one object serves them all). */
const ADMITTED: AdmitResult = Object.freeze({ ok: true });

/** The memory store: a StateStore with every optional capability. */
export type MemoryStore = Required<StateStore>;

/**
 * The default StateStore: state in this process's memory, so limits, grants and suspensions hold
 * for one process only (use `redisStore()` from `toolgate/redis` for many). Every operation is
 * synchronous and therefore atomic; expired state is swept as the store is used.
 *
 * @example
 * const tg = createGuard({ policy, store: memoryStore() });
 */
export function memoryStore(): MemoryStore {
  const rates = new Map<string, RateWindow>();
  const budgets = new Map<string, BudgetWindow>();
  const semaphores = new Map<string, Map<string, number>>();
  const suspended = new Map<string, Suspension>();
  const records = new MemoryRecords();
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
    records.sweep(now);
  };

  /**
   * `'new-holder'`: the caller (the guard, for a call's first admission:
   * `SyncAdmission.admitNew`) knows the holder was never admitted, so its rate hits need no
   * lookup and are not indexed.
   */
  const admitChecked = (request: AdmitRequest, holders: 'new-holder' | 'any-holder'): AdmitResult => {
    const fresh = holders === 'new-holder';
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

  const admit = (request: AdmitRequest): AdmitResult => {
    open();
    checkAdmitRequest(request);
    return admitChecked(request, 'any-holder');
  };

  // The synchronous admission of a store in this process (StateStore.syncAdmission). It answers
  // only for this object with its own `admit`: a copy with another `admit` (a wrapper) has none.
  const sync: SyncAdmission = {
    nothingSuspended: () => {
      open();
      return suspended.size === 0;
    },
    admitNew: (request) => {
      open();
      return admitChecked(request, 'new-holder');
    },
  };

  return {
    name: 'memory',

    admit,

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
      records.put(collection, id, value, options);
      written(options.now);
    },

    get(collection: string, id: string, now: number): StoredRecord | undefined {
      open();
      return records.get(collection, id, now);
    },

    list(collection: string, now: number): readonly StoredRecord[] {
      open();
      return records.list(collection, now);
    },

    delete(collection: string, id: string): boolean {
      open();
      return records.delete(collection, id);
    },

    use(collection: string, id: string, options: UseOptions): UseResult {
      open();
      return records.use(collection, id, options);
    },

    claim(key: string, options: ClaimOptions): boolean {
      open();
      const claimed = records.claim(key, options);
      if (claimed) written(options.now);
      return claimed;
    },

    subscribe(channel: string, listener: (message: string) => void): Unsubscribe {
      open();
      return records.subscribe(channel, listener);
    },

    notify(channel: string, message: string): void {
      open();
      records.notify(channel, message);
    },

    close(): void {
      closed = true;
      rates.clear();
      budgets.clear();
      semaphores.clear();
      suspended.clear();
      records.clear();
    },

    syncAdmission(this: StateStore | undefined): SyncAdmission | undefined {
      return this?.admit === admit && !closed ? sync : undefined;
    },
  };
}
