import type { Awaitable, JsonValue } from '../types.ts';

/**
 * The StateStore contract: every piece of state a guard shares across calls (and, with a shared
 * backend such as Redis, across processes). Every operation is atomic on its own. Time always comes
 * from the caller (`now`, epoch ms, from the guard's injectable clock), so the same workload gives
 * the same answers from every store; a backend may also expire keys in its own time, but only as
 * garbage collection, never to decide. Keys, collections and ids are opaque strings chosen by the
 * caller.
 *
 * Implementations are plain objects made by factories (`memoryStore()`, `redisStore()`); the guard
 * calls them only through its fail-closed helper, so a throw, a rejection or a slow answer denies
 * the call (`STORE_UNAVAILABLE`). Limits, suspensions and grants need only the required members;
 * `claim`, `subscribe` / `notify` and `syncAdmission` are optional capabilities, checked by the
 * feature that needs them when it is created. Check an implementation with `testStateStore` from
 * `toolgate/testing`: it tests each capability the store has.
 */
export interface StateStore {
  /** A label for errors and docs, e.g. `'memory'` or `'redis'`. */
  readonly name: string;

  /**
   * Atomically checks the suspensions and every limit of one call, and takes all of them or none:
   * the first failing check (in the order suspensions, rates, semaphores, budgets; each in the
   * order given) is reported and nothing is consumed. With `peek`, nothing is consumed either way.
   */
  admit(request: AdmitRequest): Awaitable<AdmitResult>;

  /**
   * Gives back what `admit` took for `holder`: frees its semaphore slots and commits (the call ran)
   * or releases (it never ran) its budget reservations. Unknown keys or holders are ignored, so
   * settling twice is harmless. Rate hits are never given back.
   */
  settle(request: SettleRequest): Awaitable<void>;

  /** Suspends `key` (kill switch): every `admit` naming it fails until `resume` or `entry.until`. */
  suspend(key: string, entry: Suspension): Awaitable<void>;
  /** Lifts a suspension; `true` if one was in force. */
  resume(key: string, now: number): Awaitable<boolean>;
  /** Suspensions in force at `now`. */
  suspensions(now: number): Awaitable<readonly SuspensionRecord[]>;

  /** Stores a small JSON record (a grant, a pending approval), replacing one with the same id. */
  put(collection: string, id: string, value: JsonValue, options: PutOptions): Awaitable<void>;
  /** A live record, or `undefined` when missing or expired at `now`. */
  get(collection: string, id: string, now: number): Awaitable<StoredRecord | undefined>;
  /** The live records of a collection at `now`, in no particular order. */
  list(collection: string, now: number): Awaitable<readonly StoredRecord[]>;
  /** Deletes a record (and its use count); `true` if it existed. */
  delete(collection: string, id: string): Awaitable<boolean>;
  /**
   * Atomically counts one use of a live record if it has been used fewer than `max` times
   * (a grant's `maxUses`). With `peek`, reports without counting.
   */
  use(collection: string, id: string, options: UseOptions): Awaitable<UseResult>;

  /**
   * Optional capability (approval queues): a single-use claim. The first caller for `key` gets
   * `true`, every later caller `false` until the claim expires (approval-token consumption, replay
   * protection). A feature that needs it checks for it when it is created.
   */
  claim?(key: string, options: ClaimOptions): Awaitable<boolean>;

  /**
   * Optional capability (approval queues, `waitFor`): listens on `channel` for `notify` from this
   * or any process sharing the store. Resolves once the subscription is live, so a notification
   * sent after it resolves is never missed; resolves with the function that unsubscribes. Delivery
   * is at most once and may be lost on a connection failure, so waiters should re-read state on
   * wake-up and on a timer (see `waitFor`). A store has both `subscribe` and `notify`, or neither.
   */
  subscribe?(channel: string, listener: (message: string) => void): Awaitable<Unsubscribe>;
  /** Optional capability, with `subscribe`: wakes every subscriber of `channel`, in every process sharing the store. */
  notify?(channel: string, message: string): Awaitable<void>;

  /**
   * Optional capability of a store whose state lives in this process (the memory store): the
   * guard asks for it once, when it is created, and then admits a call's first admission through
   * it and skips the store entirely for a call without limits while nothing is suspended
   * (docs/performance.md). Return `undefined` when this object cannot answer for itself, for
   * example because a wrapper replaced its `admit` (compare `this.admit` with your own).
   */
  syncAdmission?(): SyncAdmission | undefined;

  /** Releases connections and timers. The store may not be used afterwards. */
  close?(): Awaitable<void>;
}

/** Ends a subscription. */
export type Unsubscribe = () => Awaitable<void>;

/**
 * Synchronous admission in this process (`StateStore.syncAdmission`). The guard calls both through
 * its fail-closed helper: a throw from `admitNew` denies like a failing `admit`, and a throw or any
 * answer but `true` from `nothingSuspended` makes the guard ask the store.
 */
export interface SyncAdmission {
  /**
   * `true` only when no suspension is stored at all, so the suspension check cannot deny; throws
   * once the store is closed.
   */
  nothingSuspended(): boolean;
  /**
   * `admit`, answered synchronously, for a request the guard built itself (well-formed, so not
   * checked again) for a holder it never admitted before (a call's first admission): its rate hits
   * need no lookup by holder. Throws once the store is closed.
   */
  admitNew(request: AdmitRequest): AdmitResult;
}

/** One call's checks, for `StateStore.admit`. */
export interface AdmitRequest {
  /** The caller's clock, epoch ms. */
  readonly now: number;
  /** Who takes the slots and reservations (the call id); also makes rate hits idempotent. */
  readonly holder: string;
  /** Consume nothing; only report whether the call would be admitted (`tg.check()`). */
  readonly peek?: boolean;
  /** Suspension keys to check (`tool=…`, `agent=…`, …); any one in force fails the call. */
  readonly suspensions?: readonly string[];
  /**
   * Sliding-window rate limits: at most `limit` admitted holders in any window of `windowMs`
   * (a window ends at `now` and includes it; a hit at `t` counts until `t + windowMs`).
   */
  readonly rates?: readonly RateCheck[];
  /** Semaphores: at most `limit` holders at once; a holder's slot lapses at `now + leaseMs`. */
  readonly semaphores?: readonly SemaphoreCheck[];
  /**
   * Budgets: the sum of reservations in any window of `windowMs` (sliding, like rates) plus
   * `amount` must stay at or below `max`. A reservation counts from `now` until it leaves the
   * window, whether committed or still pending; only `settle` with `ran: false` removes it.
   */
  readonly budgets?: readonly BudgetCheck[];
}

/** A sliding-window rate limit. */
export interface RateCheck {
  readonly key: string;
  /** A positive integer. */
  readonly limit: number;
  /** A positive number of milliseconds. */
  readonly windowMs: number;
}

/** A counting semaphore with leases. */
export interface SemaphoreCheck {
  readonly key: string;
  /** A positive integer. */
  readonly limit: number;
  /** How long the slot is held if nobody settles it (a crashed process), in ms. */
  readonly leaseMs: number;
}

/** A budget reservation against a sliding window. */
export interface BudgetCheck {
  readonly key: string;
  /** A finite, non-negative number. */
  readonly amount: number;
  /** A finite, non-negative number. */
  readonly max: number;
  /** A positive number of milliseconds. */
  readonly windowMs: number;
}

/** The answer of `admit`. */
export type AdmitResult =
  | { readonly ok: true }
  | {
      readonly ok: false;
      /** Which kind of check failed. */
      readonly kind: 'suspended' | 'rate' | 'concurrency' | 'budget';
      /** The key that failed. */
      readonly key: string;
      /**
       * When a retry could succeed, in ms from `now`, if the store can tell (rates; budgets when
       * enough of the window will have passed). Absent for semaphores and suspensions.
       */
      readonly retryAfterMs?: number;
    };

/** What to give back, for `StateStore.settle`. */
export interface SettleRequest {
  readonly now: number;
  readonly holder: string;
  /** Semaphore keys to free. */
  readonly semaphores?: readonly string[];
  /** Budget keys whose reservation to settle. */
  readonly budgets?: readonly string[];
  /** `true`: the tool ran, so reservations become spending; `false`: they are released. */
  readonly ran: boolean;
}

/** A suspension as stored. */
export interface Suspension {
  /** When it was set, epoch ms. */
  readonly at: number;
  /** When it lapses by itself, epoch ms; absent means until `resume`. */
  readonly until?: number;
  readonly reason?: string;
}

/** A suspension in force. */
export interface SuspensionRecord extends Suspension {
  readonly key: string;
}

/** Options of `StateStore.put`. */
export interface PutOptions {
  readonly now: number;
  /** Lifetime in ms from `now`; absent means no expiry. */
  readonly ttlMs?: number;
}

/** A stored record. */
export interface StoredRecord {
  readonly id: string;
  readonly value: JsonValue;
  /** Expiry, epoch ms; absent means none. */
  readonly expiresAt?: number;
  /** Uses counted by `use`. */
  readonly uses: number;
}

/** Options of `StateStore.use`. */
export interface UseOptions {
  readonly now: number;
  /** Uses allowed in total (a positive integer). */
  readonly max: number;
  readonly peek?: boolean;
}

/** The answer of `StateStore.use`. */
export interface UseResult {
  /** The use was counted (or, with `peek`, would be). */
  readonly ok: boolean;
  /** `false` when the record is missing or expired. */
  readonly found: boolean;
  /** Uses counted so far, including this one. */
  readonly uses: number;
}

/** Options of `StateStore.claim`. */
export interface ClaimOptions {
  readonly now: number;
  /** How long the claim stands, in ms (positive). */
  readonly ttlMs: number;
}
