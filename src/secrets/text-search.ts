/**
 * Finds many literal patterns (all at least `WINDOW` characters long) in long texts in one pass:
 * a rolling hash of every `WINDOW`-character window, a 64 Ki-entry count table that rules out
 * most windows at once, then a map from hash to the patterns starting with such a window, each
 * confirmed with `startsWith`. Memory grows with the number of patterns, not their length. The
 * hash reads every character with its 0x20 bit set (letters in either case hash alike), so a
 * caseless pattern (hex digits, written lower-case) is found with its letters in any mix of cases
 * by the same pass; every other pattern is confirmed exactly.
 */
export const WINDOW = 8;

const BASE = 0x01000193;
/** BASE ** (WINDOW - 1), mod 2^32. */
const TOP = (() => {
  let power = 1;
  for (let i = 1; i < WINDOW; i++) power = Math.imul(power, BASE);
  return power;
})();

/** One pattern and what it stands for. */
export interface Pattern<T> {
  readonly text: string;
  readonly owner: T;
  /**
   * Hex digits, written lower-case, whose letters match in either case (hex is case-insensitive,
   * and nothing stops a dump from mixing cases).
   */
  readonly caseless?: boolean;
}

/** A match: `[start, end)` of the text, and the pattern's owner. */
export interface Match<T> {
  readonly start: number;
  readonly end: number;
  readonly owner: T;
}

// Every character is hashed with its 0x20 bit set (`| CASE`): one OR, so the hot loop costs what
// it did, while a letter and its other case hash alike. Windows that differ only in that bit are
// rare in real text, and each is ruled out when the candidates are confirmed.
const CASE = 0x20;

function windowHash(text: string, start: number): number {
  let hash = 0;
  for (let i = start; i < start + WINDOW; i++)
    hash = (Math.imul(hash, BASE) + (text.charCodeAt(i) | CASE)) | 0;
  return hash;
}

/** Whether `pattern` occurs in `text` at `at`: exactly, or for a caseless one, hex letters in either case. */
function occursAt(text: string, at: number, pattern: Pattern<unknown>): boolean {
  if (pattern.caseless !== true) return text.startsWith(pattern.text, at);
  const wanted = pattern.text;
  if (at + wanted.length > text.length) return false;
  for (let k = 0; k < wanted.length; k++) {
    const want = wanted.charCodeAt(k);
    const code = text.charCodeAt(at + k);
    // A pattern letter (a to f) also matches its upper case; a digit only itself.
    if (code !== want && !(want >= 97 && (code | CASE) === want)) return false;
  }
  return true;
}

/** A mutable set of patterns. */
export class PatternSet<T> {
  private readonly byHash = new Map<number, Pattern<T>[]>();
  private readonly counts = new Uint16Array(65_536);
  private total = 0;

  get size(): number {
    return this.total;
  }

  add(pattern: Pattern<T>): void {
    if (pattern.text.length < WINDOW)
      throw new RangeError(`a pattern must have at least ${WINDOW} characters`);
    const hash = windowHash(pattern.text, 0);
    const list = this.byHash.get(hash);
    if (list === undefined) this.byHash.set(hash, [pattern]);
    else list.push(pattern);
    const slot = hash >>> 16;
    // Saturates rather than wraps: a full slot is never cleared by removals, only ever checked.
    if (this.counts[slot]! < 0xffff) this.counts[slot] = this.counts[slot]! + 1;
    this.total += 1;
  }

  delete(pattern: Pattern<T>): void {
    const hash = windowHash(pattern.text, 0);
    const list = this.byHash.get(hash);
    const at = list?.indexOf(pattern) ?? -1;
    if (list === undefined || at < 0) return;
    list.splice(at, 1);
    if (list.length === 0) this.byHash.delete(hash);
    const slot = hash >>> 16;
    if (this.counts[slot]! < 0xffff) this.counts[slot] = this.counts[slot]! - 1;
    this.total -= 1;
  }

  /**
   * Every occurrence of every pattern, in order of start. `starts`, when given, gets every
   * position whose window starts a pattern, in order, whether the rest follows or not.
   */
  find(text: string, starts?: number[]): Match<T>[] {
    const matches: Match<T>[] = [];
    this.scan(
      text,
      (start, pattern) => {
        matches.push({ start, end: start + pattern.text.length, owner: pattern.owner });
        return false;
      },
      starts,
    );
    return matches;
  }

  /** Whether any pattern occurs in `text` (no allocation when none does); `starts` as for `find`. */
  test(text: string, starts?: number[]): boolean {
    return this.scan(text, () => true, starts);
  }

  /**
   * Whether a window across a gap of `text` begins a pattern: its first 1 to `WINDOW - 1`
   * characters end at `at`, the rest start at `after` (no allocation).
   */
  startsAcross(text: string, at: number, after: number): boolean {
    const before = Math.min(at, WINDOW - 1);
    const length = before + Math.min(WINDOW - 1, text.length - after);
    if (this.total === 0 || before === 0 || length < WINDOW) return false;
    // Rolled as `scan` rolls, over the characters before the gap and then after it.
    const shift = after - before;
    const from = at - before;
    let hash = 0;
    for (let k = 0; k < WINDOW; k++)
      hash = (Math.imul(hash, BASE) + (text.charCodeAt(k < before ? from + k : shift + k) | CASE)) | 0;
    for (let k = 0; ; k++) {
      if (this.counts[hash >>> 16] !== 0 && this.byHash.has(hash)) return true;
      if (k + 1 >= before || k + WINDOW >= length) return false;
      const out = text.charCodeAt(from + k) | CASE;
      const next = k + WINDOW;
      hash =
        (Math.imul(hash - Math.imul(out, TOP), BASE) +
          (text.charCodeAt(next < before ? from + next : shift + next) | CASE)) |
        0;
    }
  }

  /** Calls `found` for each occurrence until it returns true; returns whether it did. */
  private scan(
    text: string,
    found: (start: number, pattern: Pattern<T>) => boolean,
    starts: number[] | undefined,
  ): boolean {
    if (this.total === 0 || text.length < WINDOW) return false;
    const counts = this.counts;
    let hash = windowHash(text, 0);
    const last = text.length - WINDOW;
    for (let i = 0; ; i++) {
      if (counts[hash >>> 16] !== 0) {
        const list = this.byHash.get(hash);
        if (list !== undefined) {
          starts?.push(i);
          for (const pattern of list) if (occursAt(text, i, pattern) && found(i, pattern)) return true;
        }
      }
      if (i === last) return false;
      hash =
        (Math.imul(hash - Math.imul(text.charCodeAt(i) | CASE, TOP), BASE) +
          (text.charCodeAt(i + WINDOW) | CASE)) |
        0;
    }
  }
}
