// A decoded view of a text, and how its units map back onto the original: shared by every kind
// of view the scrubber searches (escapes undone, separated hex bytes, lines joined).

/** A decoded view of a text. */
export interface Unescaped {
  readonly text: string;
  /** The text this view decoded: the original, or the view of the round before. */
  readonly parent: Unescaped | undefined;
  /**
   * Each decoded escape, as four numbers: its units' `[start, end)` in `text`, and its span in the
   * parent's text. Units between escapes are copied as they are.
   */
  readonly escapes: readonly number[];
}

/**
 * The parts of `view` a pattern of at most `reach` characters must be searched in, as `[start,
 * end)` pairs: around its decoded escapes only, since what has none is in the parent's text as it
 * is (and so was searched there).
 */
export function escapedParts(view: Unescaped, reach: number): number[] {
  const parts: number[] = [];
  const { escapes } = view;
  for (let k = 0; k < escapes.length; k += 4) {
    const start = Math.max(0, escapes[k]! - reach + 1);
    const end = Math.min(view.text.length, escapes[k + 1]! + reach - 1);
    if (parts.length > 0 && start <= parts[parts.length - 1]!) parts[parts.length - 1] = end;
    else parts.push(start, end);
  }
  return parts;
}

/** The span of the original text that units `[start, end)` of `view` came from. */
export function sourceSpan(view: Unescaped, start: number, end: number): [number, number] {
  let from = start;
  let to = end;
  for (let at: Unescaped | undefined = view; at !== undefined; at = at.parent) {
    from = sourceOf(at.escapes, from, false);
    to = sourceOf(at.escapes, to - 1, true);
  }
  return [from, to];
}

/** Where unit `unit` of a view starts (or ends, `after`) in its parent's text. */
function sourceOf(escapes: readonly number[], unit: number, after: boolean): number {
  // The last escape starting at or before `unit` (escapes are in order).
  let low = 0;
  let high = escapes.length / 4 - 1;
  let found = -1;
  while (low <= high) {
    const middle = (low + high) >> 1;
    if (escapes[4 * middle]! <= unit) {
      found = middle;
      low = middle + 1;
    } else high = middle - 1;
  }
  if (found < 0) return after ? unit + 1 : unit;
  const viewEnd = escapes[4 * found + 1]!;
  const sourceEnd = escapes[4 * found + 3]!;
  if (unit < viewEnd) return after ? sourceEnd : escapes[4 * found + 2]!;
  const offset = sourceEnd + (unit - viewEnd);
  return after ? offset + 1 : offset;
}
