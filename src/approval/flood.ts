/** Caps on how many approvals one principal may have open at once and request per minute. */
export interface FloodLimits {
  /** Pending approval requests per principal at any moment. */
  readonly maxPending: number;
  /** Approval requests per principal in any 60-second window. */
  readonly perMinute: number;
}

/** A slot taken for one approval request; release it when the request settles. */
export type FloodTicket = { ok: true; release: () => void } | { ok: false; reason: string };

const WINDOW_MS = 60_000;

/**
 * Per-principal flood control for approval requests, kept in process: a flood of `ask` calls is
 * denied (`APPROVAL_RATE_LIMITED`) before any human is bothered. Calls without a principal share
 * one bucket. Time comes from the guard's clock.
 */
export class FloodControl {
  private readonly pending = new Map<string, number>();
  private readonly recent = new Map<string, number[]>();

  constructor(
    private readonly limits: FloodLimits,
    private readonly now: () => number,
  ) {}

  /** Takes a slot for `principal`, or says why not. */
  acquire(principal: string | undefined): FloodTicket {
    const key = principal ?? '';
    const now = this.now();
    const open = this.pending.get(key) ?? 0;
    if (open >= this.limits.maxPending) {
      return { ok: false, reason: `${this.limits.maxPending} approval requests are already pending` };
    }
    const times = (this.recent.get(key) ?? []).filter((t) => t > now - WINDOW_MS);
    if (times.length >= this.limits.perMinute) {
      this.recent.set(key, times);
      return { ok: false, reason: `more than ${this.limits.perMinute} approval requests in a minute` };
    }
    times.push(now);
    this.recent.set(key, times);
    // Forget principals idle for a minute, so many one-off principals cannot grow the map forever.
    if (this.recent.size > 10_000) {
      for (const [other, stamps] of this.recent) {
        if (stamps.every((t) => t <= now - WINDOW_MS) && !this.pending.has(other)) this.recent.delete(other);
      }
    }
    this.pending.set(key, open + 1);
    let released = false;
    return {
      ok: true,
      release: () => {
        if (released) return;
        released = true;
        const left = (this.pending.get(key) ?? 1) - 1;
        if (left <= 0) this.pending.delete(key);
        else this.pending.set(key, left);
      },
    };
  }
}
