import { performance } from 'node:perf_hooks';
import { MAX_TIMER_MS } from '../_internal/deadlines.ts';
import { parseDuration } from '../_internal/duration.ts';
import { callSafely, type SafeResult } from '../_internal/fail-closed.ts';
import type { AdmitRequest, AdmitResult, SemaphoreCheck, StateStore } from '../store/types.ts';
import type { Decision, Duration } from '../types.ts';

/** How long past its call timeout (and approval wait) a slot is held if its process dies. */
export const LEASE_GRACE_MS = 1000;

/**
 * The longest lease, about 285,000 years: durations that add up past it (or past any number, such
 * as two of 1e308 ms) lease for this long, so a store is never sent an infinite or unsafe lease.
 */
const MAX_LEASE_MS = Number.MAX_SAFE_INTEGER;

/** What a lease needs of the limits step's settings. */
export interface LeaseSettings {
  readonly store: StateStore;
  readonly storeTimeoutMs: number;
  readonly onError: (source: string, error: unknown, callId?: string) => void;
}

/** What a call holds after the limits step: give it back exactly once, when the call settles. */
export interface LimitLease {
  /** `'ran'`: the tool was invoked, so budget reservations become spending; `'not-run'`: they are released. */
  release(how: 'ran' | 'not-run'): void;
}

/**
 * The slots and reservations one call holds in the store (src/limits/admission.ts). While held,
 * its concurrency slots are renewed before they lapse (every half lease), so a slot lasts as long
 * as the call does, whatever it waits for between admission and the end of the tool (an approval,
 * a fail-closed audit write, a secret fetch, the tool): the lease computed at admission is only
 * what a slot outlives its process by. `renew` renews them now, with the kill switch checked in
 * the same store operation (after an approval wait).
 */
export class HeldLease implements LimitLease {
  #released = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #startedAt = performance.now();

  constructor(
    private readonly settings: LeaseSettings,
    readonly holder: string,
    /** When the call was admitted, on the guard's clock. */
    private readonly admittedAt: number,
    private readonly semaphores: readonly SemaphoreCheck[] | undefined,
    private readonly budgets: readonly string[] | undefined,
    /** The guard's clock; absent: admission time plus the time since, on this process's clock. */
    private readonly clock: (() => number) | undefined,
  ) {
    this.#schedule();
  }

  release(how: 'ran' | 'not-run'): void {
    if (this.#released) return;
    this.#released = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#settle(how === 'ran');
  }

  /**
   * One store operation: the suspension keys given (the kill switch, checked again) and a renewal
   * of this call's slots. Nothing else is taken again: rate hits and reservations stay as they were.
   * `undefined` when there is nothing to ask the store.
   */
  renew(
    suspensions: readonly string[],
    signal: AbortSignal | undefined,
  ): SafeResult<unknown> | Promise<SafeResult<unknown>> | undefined {
    const semaphores = this.semaphores;
    if (this.#released || (suspensions.length === 0 && semaphores === undefined)) return undefined;
    const request: { -readonly [K in keyof AdmitRequest]: AdmitRequest[K] } = {
      now: this.#now(),
      holder: this.holder,
      suspensions,
    };
    if (semaphores !== undefined) request.semaphores = semaphores;
    const store = this.settings.store;
    return callSafely(() => store.admit(request), {
      timeoutMs: this.settings.storeTimeoutMs,
      signal,
      // A renewal answered after the call gave up, or after it settled, took the slots again:
      // they are given back at once (settling twice is harmless).
      onLate: () => this.#settleIfReleased(),
    });
  }

  #now(): number {
    if (this.clock !== undefined) return this.clock();
    return this.admittedAt + (performance.now() - this.#startedAt);
  }

  /** Renews the slots every half lease while the call holds them. */
  #schedule(): void {
    const semaphores = this.semaphores;
    if (semaphores === undefined || semaphores.length === 0) return;
    let leaseMs = Number.POSITIVE_INFINITY;
    for (const check of semaphores) leaseMs = Math.min(leaseMs, check.leaseMs);
    // A lease over 49.7 days would overflow setTimeout's 32-bit delay, which then fires after 1 ms
    // (a renewal every millisecond): such slots are renewed every 24.8 days instead.
    const delay = Math.min(MAX_TIMER_MS, Math.max(1, Math.floor(leaseMs / 2)));
    const timer = setTimeout(() => this.#heartbeat(), delay);
    // A lease never keeps the process alive: the call does, while it runs.
    timer.unref?.();
    this.#timer = timer;
  }

  #heartbeat(): void {
    this.#timer = undefined;
    if (this.#released) return;
    const outcome = this.renew([], undefined);
    const report = (result: SafeResult<unknown> | undefined) => {
      if (result === undefined) return;
      let renewed = false;
      try {
        renewed = result.ok && (result.value as AdmitResult | undefined)?.ok === true;
      } catch {
        // A malformed answer (a getter that throws): not renewed.
      }
      if (renewed) {
        this.#settleIfReleased();
      } else {
        this.settings.onError(
          'store',
          result.ok
            ? new Error('toolgate: a concurrency slot could not be renewed; it lapses with its lease')
            : result.reason === 'error'
              ? result.error
              : new Error(`toolgate: store renewal ${result.reason}`),
          this.holder,
        );
      }
      if (!this.#released) this.#schedule();
    };
    if (outcome instanceof Promise) void outcome.then(report);
    else report(outcome);
  }

  /** A renewal that landed after the release took the slots again: give them back. */
  #settleIfReleased(): void {
    if (this.#released) this.#settle(false, true);
  }

  #settle(ran: boolean, slotsOnly = false): void {
    const settle: {
      now: number;
      holder: string;
      ran: boolean;
      semaphores?: string[];
      budgets?: readonly string[];
    } = { now: this.#now(), holder: this.holder, ran };
    if (this.semaphores !== undefined) settle.semaphores = this.semaphores.map((check) => check.key);
    if (!slotsOnly && this.budgets !== undefined) settle.budgets = this.budgets;
    if (settle.semaphores === undefined && settle.budgets === undefined) return;
    // Not awaited: a lost settle only holds a slot until its lease ends, and keeps a reservation
    // counted, which errs on the side of denying.
    const store = this.settings.store;
    const outcome = callSafely(() => store.settle(settle), { timeoutMs: this.settings.storeTimeoutMs });
    const report = (result: SafeResult<void>) => {
      if (!result.ok)
        this.settings.onError(
          'store',
          result.reason === 'error' ? result.error : new Error(`toolgate: store settle ${result.reason}`),
          this.holder,
        );
    };
    if (outcome instanceof Promise) void outcome.then(report);
    else report(outcome);
  }
}

/**
 * How long a slot outlives its call if nobody settles it (a process that died): the call's
 * timeout (the default or a tighter `timeout` obligation), its wait for an approval (for an ask,
 * the decision's `approval.timeout` read as the approval flow reads it, or the default), and a
 * grace period. While the call is alive the slot is renewed (see HeldLease), so waits the guard
 * does not bound here (a fail-closed audit write, a secret fetch) never let it lapse.
 */
export function leaseOf(
  settings: { readonly timeoutMs: number; readonly approvalTimeoutMs: number },
  decision: Exclude<Decision, { type: 'deny' }>,
): number {
  const timeoutMs = durationOr(decision.obligations?.timeout, settings.timeoutMs);
  const approvalMs =
    decision.type === 'ask' ? durationOr(decision.approval?.timeout, settings.approvalTimeoutMs) : 0;
  return Math.min(timeoutMs + approvalMs + LEASE_GRACE_MS, MAX_LEASE_MS);
}

/** A duration read with `parseDuration` (as everywhere: `'3s'` or ms), or the fallback. */
function durationOr(value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  try {
    return parseDuration(value as Duration, 'duration');
  } catch {
    // Malformed: the decide step denies such a decision; the lease takes the guard's default.
    return fallback;
  }
}
