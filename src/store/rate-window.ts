/**
 * The hits of one rate key in the memory store (src/store/memory.ts): a sliding window kept as
 * parallel arrays sorted by time. No object per hit: a window holds hundreds of hits for the
 * length of the window, long enough to be promoted by the garbage collector, and pruning reads
 * only the packed array of times.
 *
 * The live window is `[head, length)`: pruning moves `head` forward, and the dead prefix is
 * dropped with one splice once it is at least half the arrays (each hit is moved at most once
 * per halving, so pruning is amortized O(1) per hit; `shift()` on arrays over 100 elements is a
 * runtime call each time).
 */
export class RateWindow {
  /** When each hit was taken, ascending. */
  private readonly times: number[] = [];
  /** Who took it (a call id). */
  private readonly holders: string[] = [];
  /** 1 when the holder is in `ids`; 0 for an unindexed hit (see `unindexed`). */
  private readonly marks: number[] = [];
  private head = 0;
  /** Holders of the indexed hits. */
  private readonly ids = new Set<string>();
  /**
   * How many live hits are not in `ids`: hits the limits step took for a call's first admission
   * (its id is new, so there was nothing to look up, and hashing it into the set was most of a
   * rate check's cost). Finding a holder scans them while there are any.
   */
  private unindexed = 0;
  /** When the newest hit leaves the window; the whole window is garbage after that. */
  until = 0;

  /** Hits in the window. */
  get size(): number {
    return this.times.length - this.head;
  }

  /** Time of the hit `back` places from the newest (1 = the newest); NaN when there is none. */
  timeFromEnd(back: number): number {
    return this.times[this.times.length - back] ?? Number.NaN;
  }

  /** Drops the hits that have left the window ending at `now`. */
  prune(now: number, windowMs: number): void {
    const times = this.times;
    let head = this.head;
    while (head < times.length && (times[head] as number) + windowMs <= now) {
      if (this.marks[head] === 1) this.ids.delete(this.holders[head] as string);
      else this.unindexed -= 1;
      head += 1;
    }
    if (head === times.length) {
      times.length = 0;
      this.holders.length = 0;
      this.marks.length = 0;
      head = 0;
    } else if (head >= 32 && head * 2 >= times.length) {
      times.splice(0, head);
      this.holders.splice(0, head);
      this.marks.splice(0, head);
      head = 0;
    }
    this.head = head;
  }

  /** Whether `holder` has a hit in the window. */
  holds(holder: string): boolean {
    if (this.ids.has(holder)) return true;
    if (this.unindexed === 0) return false;
    const holders = this.holders;
    for (let i = this.head; i < holders.length; i++) {
      if (this.marks[i] === 0 && holders[i] === holder) return true;
    }
    return false;
  }

  /** Records a hit at `t` (usually the newest; an older `t` is inserted in order). */
  add(t: number, holder: string, indexed: boolean): void {
    if (indexed) this.ids.add(holder);
    else this.unindexed += 1;
    const times = this.times;
    const mark = indexed ? 1 : 0;
    if (times.length === this.head || (times[times.length - 1] as number) <= t) {
      times.push(t);
      this.holders.push(holder);
      this.marks.push(mark);
      return;
    }
    let index = times.length;
    while (index > this.head && (times[index - 1] as number) > t) index -= 1;
    times.splice(index, 0, t);
    this.holders.splice(index, 0, holder);
    this.marks.splice(index, 0, mark);
  }
}
