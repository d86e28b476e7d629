import { performance } from 'node:perf_hooks';

/** A scheduled deadline; `cancel()` is idempotent. */
export interface Deadline {
  cancel(): void;
}

/** Longest delay `setTimeout` takes (about 24.8 days); longer ones are capped to it. */
const MAX_DELAY = 2_147_483_647;

/**
 * Call timeouts without a timer per call. Deadlines of the same duration expire in the order they
 * were set, so each duration keeps a doubly linked list (O(1) add and cancel) and one Node timer
 * for its head. The timer keeps the process alive exactly while its list holds a deadline, as a
 * timer per call would: it is unref'd when the list empties and ref'd again when it fills.
 */
class DeadlineList {
  head: Entry | undefined;
  tail: Entry | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The deadline the timer was armed for. */
  private armedFor = 0;

  constructor(readonly ms: number) {}

  add(entry: Entry): void {
    const empty = this.head === undefined;
    entry.prev = this.tail;
    if (this.tail === undefined) this.head = entry;
    else this.tail.next = entry;
    this.tail = entry;
    if (this.timer === undefined) this.arm(entry.at, this.ms);
    else if (empty) this.timer.ref();
  }

  remove(entry: Entry): void {
    if (entry.prev === undefined) this.head = entry.next;
    else entry.prev.next = entry.next;
    if (entry.next === undefined) this.tail = entry.prev;
    else entry.next.prev = entry.prev;
    entry.prev = undefined;
    entry.next = undefined;
    // Nothing left to wait for: the timer may still fire (and find nothing), but holds no process.
    if (this.head === undefined) this.timer?.unref();
  }

  /** Arms the timer for the deadline `at`, `delay` ms away. */
  private arm(at: number, delay: number): void {
    this.armedFor = at;
    this.timer = setTimeout(() => this.expire(), Math.max(1, Math.min(delay, MAX_DELAY)));
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

/** Calls `fire` once, `ms` milliseconds from now, unless cancelled first. */
export function deadline(ms: number, fire: () => void): Deadline {
  const delay = Math.min(Math.max(0, ms), MAX_DELAY);
  let list = lists.get(delay);
  if (list === undefined) {
    list = new DeadlineList(delay);
    // Durations come from configuration and rule obligations: few distinct values in practice.
    if (lists.size < 1_000) lists.set(delay, list);
  }
  const entry = new Entry(list, performance.now() + delay, fire);
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
