import { performance } from 'node:perf_hooks';

/** A scheduled deadline; `cancel()` is idempotent. */
export interface Deadline {
  cancel(): void;
}

/**
 * Longest delay `setTimeout` takes (2^31 - 1 ms, about 24.8 days): it fires at once for longer
 * ones, so every timer in toolgate is capped to this instead.
 */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Call timeouts without a timer per call. Deadlines of the same duration expire in the order they
 * were set, so each duration keeps a doubly linked list (O(1) add and cancel) and one Node timer
 * for its head. The timer keeps the process alive while its list holds a deadline, as a timer per
 * call would: once the list is empty at the end of an event-loop turn it is unref'd, and ref'd
 * again when a deadline is added. (Deciding per turn, not per call, keeps a busy loop of short
 * calls from toggling the timer twice per call.)
 */
class DeadlineList {
  head: Entry | undefined;
  tail: Entry | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The deadline the timer was armed for. */
  private armedFor = 0;
  /** Whether the timer holds the process open. */
  private refed = false;
  private unrefPending = false;
  private readonly unrefIfIdle = (): void => {
    this.unrefPending = false;
    if (this.head === undefined && this.timer !== undefined && this.refed) {
      this.timer.unref();
      this.refed = false;
    }
  };

  constructor(readonly ms: number) {}

  add(entry: Entry): void {
    entry.prev = this.tail;
    if (this.tail === undefined) this.head = entry;
    else this.tail.next = entry;
    this.tail = entry;
    if (this.timer === undefined) this.arm(entry.at, this.ms);
    else if (!this.refed) {
      this.timer.ref();
      this.refed = true;
    }
  }

  remove(entry: Entry): void {
    if (entry.prev === undefined) this.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    // Nothing left to wait for: the timer may still fire (and find nothing), but must not hold the
    // process open for it once this turn of the event loop is over.
    if (this.head === undefined && this.refed && !this.unrefPending) {
      this.unrefPending = true;
      setImmediate(this.unrefIfIdle);
    }
  }

  /** Arms the timer for the deadline `at`, `delay` ms away. */
  private arm(at: number, delay: number): void {
    this.armedFor = at;
    this.timer = setTimeout(() => this.expire(), Math.max(1, Math.min(delay, MAX_TIMER_MS)));
    this.refed = true;
  }

  /**
   * The timer fired: time has reached `armedFor`. Judged by the timer, not by reading a clock, so
   * the deadlines behave the same under fake timers (which move setTimeout but not every clock).
   */
  private expire(): void {
    this.timer = undefined;
    const now = this.armedFor;
    let entry = this.head;
    while (entry !== undefined && entry.at <= now) {
      this.remove(entry);
      entry.list = undefined;
      runSafely(entry.fire);
      entry = this.head;
    }
    if (entry !== undefined) this.arm(entry.at, entry.at - now);
  }
}

class Entry implements Deadline {
  prev: Entry | undefined;
  next: Entry | undefined;

  constructor(
    public list: DeadlineList | undefined,
    readonly at: number,
    readonly fire: () => void,
  ) {}

  cancel(): void {
    const list = this.list;
    if (list === undefined) return;
    this.list = undefined;
    list.remove(this);
  }
}

const lists = new Map<number, DeadlineList>();

/** Calls `fire` once, `ms` milliseconds from now (`now`: `performance.now()`), unless cancelled first. */
export function deadline(ms: number, fire: () => void, now: number = performance.now()): Deadline {
  const delay = Math.min(Math.max(0, ms), MAX_TIMER_MS);
  let list = lists.get(delay);
  if (list === undefined) {
    list = new DeadlineList(delay);
    // Durations come from configuration and rule obligations: few distinct values in practice.
    if (lists.size < 1_000) lists.set(delay, list);
  }
  const entry = new Entry(list, now + delay, fire);
  list.add(entry);
  return entry;
}

function runSafely(fire: () => void): void {
  try {
    fire();
  } catch (error) {
    // A deadline callback must not stop the others; surface it as Node would for a timer.
    queueMicrotask(() => {
      throw error;
    });
  }
}
