/** A budget reservation: `amount` taken by `holder` at `t`. */
interface Reservation {
  readonly t: number;
  readonly holder: string;
  readonly amount: number;
}

/**
 * The reservations of one budget key in the memory store (src/store/memory.ts), sorted by time:
 * a sliding-window sum. Rate windows have their own, leaner structure (src/store/rate-window.ts).
 */
export class BudgetWindow {
  private readonly entries: Reservation[] = [];
  private readonly holders = new Set<string>();
  /** When the newest reservation leaves the window; the whole window is garbage after that. */
  until = 0;

  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** Drops the reservations that have left the window ending at `now`. */
  prune(now: number, windowMs: number): void {
    const entries = this.entries;
    let drop = 0;
    while (drop < entries.length && (entries[drop] as Reservation).t + windowMs <= now) {
      this.holders.delete((entries[drop] as Reservation).holder);
      drop += 1;
    }
    if (drop > 0) entries.splice(0, drop);
  }

  /** Whether `holder` has a reservation in the window. */
  holds(holder: string): boolean {
    return this.holders.has(holder);
  }

  /**
   * 0 if `amount` fits now; otherwise ms until enough reservations leave the window for it to
   * fit, or `undefined` when it never will (more than `max` on its own).
   */
  retryAfter(amount: number, max: number, windowMs: number, now: number): number | undefined {
    const entries = this.entries;
    let total = 0;
    for (const entry of entries) total += entry.amount;
    if (total + amount <= max) return 0;
    if (amount > max) return undefined;
    for (const entry of entries) {
      total -= entry.amount;
      if (total + amount <= max) return Math.max(1, entry.t + windowMs - now);
    }
    return undefined;
  }

  /**
   * Reserves `amount` for `holder` at `t`, in the order the Redis store keeps its sorted set: by
   * time, then by holder as bytes. Sums are then taken in the same order on both stores, so they
   * round alike (G13: amounts such as 0.3 + 0.3 + 9.4 compare with a max differently when added
   * in another order).
   */
  reserve(t: number, holder: string, amount: number): void {
    const entries = this.entries;
    this.holders.add(holder);
    const entry: Reservation = { t, holder, amount };
    let index = entries.length;
    while (index > 0 && after(entries[index - 1] as Reservation, entry)) index -= 1;
    if (index === entries.length) entries.push(entry);
    else entries.splice(index, 0, entry);
  }

  /** Gives back the reservation of `holder` (its call failed before any side effect). */
  release(holder: string): void {
    if (!this.holders.delete(holder)) return;
    const index = this.entries.findIndex((entry) => entry.holder === holder);
    if (index >= 0) this.entries.splice(index, 1);
  }
}

/** Whether `a` sorts after `b`: by time, then by holder as UTF-8 bytes (Redis' order of members). */
function after(a: Reservation, b: Reservation): boolean {
  if (a.t !== b.t) return a.t > b.t;
  return Buffer.compare(Buffer.from(a.holder, 'utf8'), Buffer.from(b.holder, 'utf8')) > 0;
}
