/**
 * Escapes undone, for the scrubber: a text in which any of a secret's characters may be written as
 * `%HH` (its UTF-8 bytes, either case), `\uHHHH` (either case) or a JSON short escape (`\"`, `\\`,
 * `\/`, `\b`, `\f`, `\n`, `\r`, `\t`), mixed with raw ones, is decoded into views in which the
 * secret reads as itself; each unit of a view knows the span of the original it came from, so a
 * match is replaced in the original.
 */

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

/** Decoding rounds at most (a value escaped inside an escaped text, such as a URL in a URL). */
const MAX_ROUNDS = 3;
const NONE: readonly Unescaped[] = Object.freeze([]);
/** Whether a text has anything to decode (one native scan, so most texts cost no more). */
const ESCAPE = /%[0-9A-Fa-f]{2}|\\(?:u[0-9A-Fa-f]{4}|["\\/bfnrt])/;
/** A backslash escaped before a `\uHHHH`: read as JSON, or as a raw backslash of the value. */
const AMBIGUOUS = /\\\\u[0-9A-Fa-f]{4}/;
const PERCENT = 37;
const LOWER_U = 117;
/** JSON's two-character escapes, by the character after the backslash. */
const SHORT: ReadonlyMap<number, number> = new Map(
  [...'"\\/bfnrt'].map((c, i) => [c.charCodeAt(0), '"\\/\b\f\n\r\t'.charCodeAt(i)]),
);

/**
 * The decoded views of `text`, none when it has nothing to decode (the common case: a scan or
 * two). Decoding is greedy from the left, which a value's own `%`, backslash or escape-like
 * characters can make ambiguous, so there can be several views: every escape undone (then again,
 * up to three rounds), and, for a `\\\\uHHHH`, one undoing only `%HH` and `\\uHHHH` (a raw backslash
 * of the value before an escaped character).
 */
export function unescapedViews(text: string): readonly Unescaped[] {
  if ((text.indexOf('%') < 0 && text.indexOf('\\') < 0) || !ESCAPE.test(text)) return NONE;
  const views: Unescaped[] = [];
  let parent: Unescaped | undefined;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const view = decode(parent?.text ?? text, true, parent);
    if (view === undefined) break;
    views.push(view);
    parent = view;
    if (!ESCAPE.test(view.text)) break;
  }
  if (AMBIGUOUS.test(text)) {
    const view = decode(text, false, undefined);
    if (view !== undefined) views.push(view);
  }
  return views;
}

/** The texts a value reads as once decoded (its own `%41` or `\\"` undone), other than itself. */
export function unescapedForms(value: string): string[] {
  const forms = new Set(unescapedViews(value).map((view) => view.text));
  forms.delete(value);
  return [...forms];
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

function decode(text: string, short: boolean, parent: Unescaped | undefined): Unescaped | undefined {
  const n = text.length;
  const escapes: number[] = [];
  let decoded = '';
  let raw = 0;
  let nextPercent = text.indexOf('%');
  let nextSlash = text.indexOf('\\');
  for (let i = 0; ; ) {
    if (nextPercent >= 0 && nextPercent < i) nextPercent = text.indexOf('%', i);
    if (nextSlash >= 0 && nextSlash < i) nextSlash = text.indexOf('\\', i);
    if (nextPercent < 0 && nextSlash < 0) break;
    i = nextSlash < 0 || (nextPercent >= 0 && nextPercent < nextSlash) ? nextPercent : nextSlash;
    let taken = 0;
    let chars = '';
    if (text.charCodeAt(i) === PERCENT) {
      taken = percent(text, i);
      if (taken > 0) chars = String.fromCodePoint(point);
    } else if (i + 1 < n) {
      const next = text.charCodeAt(i + 1);
      const unit = next === LOWER_U && i + 5 < n ? hex4(text, i + 2) : -1;
      if (unit >= 0) {
        taken = 6;
        chars = String.fromCharCode(unit);
      } else if (short) {
        const shortUnit = SHORT.get(next);
        if (shortUnit !== undefined) {
          taken = 2;
          chars = String.fromCharCode(shortUnit);
        }
      }
    }
    if (taken === 0) {
      i += 1;
      continue;
    }
    decoded += text.slice(raw, i);
    escapes.push(decoded.length, decoded.length + chars.length, i, i + taken);
    decoded += chars;
    i += taken;
    raw = i;
  }
  if (escapes.length === 0) return undefined;
  decoded += text.slice(raw);
  return { text: decoded, parent, escapes };
}

/** The code point `percent` decoded last. */
let point = 0;

/**
 * Decodes the `%HH` escapes of one character at `at` (one for ASCII, two to four for valid UTF-8)
 * into `point`; returns the characters taken, 0 when there is no such character there.
 */
function percent(text: string, at: number): number {
  const lead = byteAt(text, at);
  if (lead < 0) return 0;
  if (lead < 0x80) {
    point = lead;
    return 3;
  }
  const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 0;
  if (length === 0 || lead > 0xf4) return 0;
  let value = lead & (0x7f >> length);
  for (let k = 1; k < length; k++) {
    const byte = byteAt(text, at + 3 * k);
    if (byte < 0 || (byte & 0xc0) !== 0x80) return 0;
    value = (value << 6) | (byte & 0x3f);
  }
  if (
    (length === 3 && (value < 0x800 || (value >= 0xd800 && value <= 0xdfff))) ||
    (length === 4 && (value < 0x10000 || value > 0x10ffff))
  )
    return 0;
  point = value;
  return 3 * length;
}

/** The byte of a `%HH` at `at`, or -1. */
function byteAt(text: string, at: number): number {
  if (at + 2 >= text.length || text.charCodeAt(at) !== PERCENT) return -1;
  const high = hexDigit(text.charCodeAt(at + 1));
  const low = hexDigit(text.charCodeAt(at + 2));
  return high < 0 || low < 0 ? -1 : (high << 4) | low;
}

function hex4(text: string, at: number): number {
  let value = 0;
  for (let k = 0; k < 4; k++) {
    const digit = hexDigit(text.charCodeAt(at + k));
    if (digit < 0) return -1;
    value = (value << 4) | digit;
  }
  return value;
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}
