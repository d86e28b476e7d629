/**
 * Escapes undone, for the scrubber: a text in which any of a secret's characters may be written as
 * `%HH`, `\xHH` or octal `\NNN` (its UTF-8 bytes, or for the last two its code point when the
 * bytes are not UTF-8), `\uHHHH`, `\u{H…}`, `\UHHHHHHHH`, a JSON short escape (`\"`, `\\`,
 * `\/`, `\b`, `\f`, `\n`, `\r`, `\t`) or an HTML character reference (`&#NN;`, `&#xHH;`, the
 * names of ASCII punctuation such as `&amp;`, and of Latin-1 such as `&eacute;`), hex digits in
 * either case, mixed with raw ones, is decoded into views in which the secret reads as itself;
 * each unit of a view knows the span of the original it came from, so a match is replaced in the
 * original. Two more views, each of the original: form encoding's `+` read as a space (when the
 * scrubber asks: a value has a space), and runs of separated hex bytes read as their bytes (`73 6b`,
 * `73:6B`, `0x73, 0x6b`, either case or both). And `joinedLines` takes line breaks out (with the
 * indentation after them), for a value or its hex or base64 wrapped over lines (`xxd -p`, PEM,
 * MIME): the scrubber uses it around the breaks that a pattern could run across.
 */
import { WINDOW } from './text-search.ts';

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
const ESCAPE =
  /%[0-9A-Fa-f]{2}|\\(?:u[0-9A-Fa-f]{4}|u\{[0-9A-Fa-f]{1,6}\}|U[0-9A-Fa-f]{8}|x[0-9A-Fa-f]{2}|[0-7"\\/bfnrt])|&(?:#[xX][0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9]{1,11});/;
/** A backslash escaped before a backslash escape: read as JSON, or as a raw backslash of the value. */
const AMBIGUOUS = /\\\\(?:u[0-9A-Fa-f]{4}|u\{|U[0-9A-Fa-f]{8}|x[0-9A-Fa-f]{2}|[0-7])/;
/** Where an escape can start; with `+`, for form encoding. */
const STARTS = /[%\\&]/g;
const STARTS_PLUS = /[%\\&+]/g;
/**
 * A run of at least `WINDOW` hex bytes on one line, each separated from the next (one or two
 * spaces, a colon, a comma and perhaps a space), each perhaps `0x`-prefixed. Hex
 * wrapped over lines is found by joining them; hex written together is found by the patterns
 * (lower- or upper-case, as encoders write it).
 */
const HEX_RUN = new RegExp(
  `(?:0[xX])?[0-9A-Fa-f]{2}(?:(?:, ?|  ?|:)(?:0[xX])?[0-9A-Fa-f]{2}){${WINDOW - 1},}`,
  'g',
);
/** A line break and the indentation after it. */
const LINE_BREAK = /\r?\n[ \t]*|\r/g;
const PERCENT = 37;
const BACKSLASH = 92;
const AMPERSAND = 38;
const PLUS = 43;
const HASH = 35;
const SEMICOLON = 59;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
/** JSON's two-character escapes, by the character after the backslash. */
const SHORT: ReadonlyMap<number, number> = new Map(
  [...'"\\/bfnrt'].map((c, i) => [c.charCodeAt(0), '"\\/\b\f\n\r\t'.charCodeAt(i)]),
);
/** HTML's names of ASCII punctuation and of Latin-1 (U+00A0 to U+00FF), by name. */
const NAMED: ReadonlyMap<string, string> = new Map([
  ...(
    [
      ['Tab', '\t'],
      ['NewLine', '\n'],
      ['excl', '!'],
      ['quot', '"'],
      ['QUOT', '"'],
      ['num', '#'],
      ['dollar', '$'],
      ['percnt', '%'],
      ['amp', '&'],
      ['AMP', '&'],
      ['apos', "'"],
      ['lpar', '('],
      ['rpar', ')'],
      ['ast', '*'],
      ['plus', '+'],
      ['comma', ','],
      ['period', '.'],
      ['sol', '/'],
      ['colon', ':'],
      ['semi', ';'],
      ['lt', '<'],
      ['LT', '<'],
      ['equals', '='],
      ['gt', '>'],
      ['GT', '>'],
      ['quest', '?'],
      ['commat', '@'],
      ['lsqb', '['],
      ['lbrack', '['],
      ['bsol', '\\'],
      ['rsqb', ']'],
      ['rbrack', ']'],
      ['Hat', '^'],
      ['lowbar', '_'],
      ['grave', '`'],
      ['lcub', '{'],
      ['lbrace', '{'],
      ['verbar', '|'],
      ['vert', '|'],
      ['VerticalLine', '|'],
      ['rcub', '}'],
      ['rbrace', '}'],
    ] as const
  ).map(([name, char]): [string, string] => [name, char]),
  ...'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml'
    .split(' ')
    .map((name, i): [string, string] => [name, String.fromCharCode(0xa0 + i)]),
]);

/** Which views to make besides the escapes undone. */
export interface ViewOptions {
  /** A view reading form encoding's `+` as a space (worth it only when a value has a space). */
  readonly plus?: boolean;
}

/**
 * The decoded views of `text`, none when it has nothing to decode (the common case: a few native
 * scans). Decoding is greedy from the left, which a value's own `%`, backslash or escape-like
 * characters can make ambiguous, so there can be several views: every escape undone (then again,
 * up to three rounds), and, for a `\\\\uHHHH` (or `\\\\xHH`…), one undoing all but JSON's short
 * escapes (a raw backslash of the value before an escaped character); then `+` read as a space,
 * and hex bytes (see the top of this file).
 */
export function unescapedViews(text: string, options: ViewOptions = {}): readonly Unescaped[] {
  const views = escapeViews(text, options.plus === true);
  const hex = hexView(text);
  return hex === undefined ? views : [...views, hex];
}

function escapeViews(text: string, plus: boolean): readonly Unescaped[] {
  if ((text.indexOf('%') < 0 && text.indexOf('\\') < 0 && text.indexOf('&') < 0) || !ESCAPE.test(text))
    return NONE;
  const views: Unescaped[] = [];
  let parent: Unescaped | undefined;
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const view = decode(parent?.text ?? text, true, parent, false);
    if (view === undefined) break;
    views.push(view);
    parent = view;
    if (!ESCAPE.test(view.text)) break;
  }
  if (AMBIGUOUS.test(text)) {
    const view = decode(text, false, undefined, false);
    if (view !== undefined) views.push(view);
  }
  if (plus && text.indexOf('+') >= 0) {
    const view = decode(text, true, undefined, true);
    if (view !== undefined) views.push(view);
  }
  return views;
}

/** The texts a value reads as once decoded (its own `%41` or `\\"` undone), other than itself. */
export function unescapedForms(value: string): string[] {
  const forms = new Set(escapeViews(value, false).map((view) => view.text));
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

function decode(
  text: string,
  short: boolean,
  parent: Unescaped | undefined,
  plus: boolean,
): Unescaped | undefined {
  const n = text.length;
  const escapes: number[] = [];
  const starts = plus ? STARTS_PLUS : STARTS;
  // Pieces joined once at the end: appending many short strings one by one is slow.
  const pieces: string[] = [];
  let length = 0;
  let raw = 0;
  for (let i = 0; ; ) {
    starts.lastIndex = i;
    if (starts.exec(text) === null) break;
    i = starts.lastIndex - 1;
    const code = text.charCodeAt(i);
    let taken = 0;
    if (code === PERCENT) {
      taken = bytes(text, i, PERCENT_BYTE, false);
    } else if (code === AMPERSAND) {
      taken = reference(text, i);
    } else if (code === PLUS) {
      taken = 1;
      point = 32;
    } else if (i + 1 < n) {
      taken = backslash(text, i, short);
    }
    if (taken === 0) {
      i += 1;
      continue;
    }
    const chars = unit >= 0 ? String.fromCharCode(unit) : String.fromCodePoint(point);
    unit = -1;
    if (i > raw) pieces.push(text.slice(raw, i));
    length += i - raw;
    escapes.push(length, length + chars.length, i, i + taken);
    pieces.push(chars);
    length += chars.length;
    i += taken;
    raw = i;
  }
  if (escapes.length === 0) return undefined;
  pieces.push(text.slice(raw));
  return { text: pieces.join(''), parent, escapes };
}

/** The code point the last escape read stands for (or `unit`, a UTF-16 unit, when not negative). */
let point = 0;
let unit = -1;

/** A backslash escape at `at` read into `point` or `unit`; returns the characters taken, or 0. */
function backslash(text: string, at: number, short: boolean): number {
  const next = text.charCodeAt(at + 1);
  switch (next) {
    case 117: // u
      if (text.charCodeAt(at + 2) === OPEN_BRACE) {
        const close = charWithin(text, CLOSE_BRACE, at + 4, at + 10);
        if (close < 0) return 0;
        const value = hexNumber(text, at + 3, close);
        if (value < 0 || value > 0x10ffff) return 0;
        point = value;
        return close + 1 - at;
      }
      if (at + 5 >= text.length) return 0;
      unit = hexNumber(text, at + 2, at + 6);
      return unit < 0 ? 0 : 6;
    case 85: {
      // U
      if (at + 9 >= text.length) return 0;
      const value = hexNumber(text, at + 2, at + 10);
      if (value < 0 || value > 0x10ffff) return 0;
      point = value;
      return 10;
    }
    case 120: // x
      return bytes(text, at, HEX_BYTE_ESCAPE, true);
    default: {
      if (next >= 48 && next <= 55) return bytes(text, at, OCTAL_BYTE, true);
      const shortUnit = short ? SHORT.get(next) : undefined;
      if (shortUnit === undefined) return 0;
      unit = shortUnit;
      return 2;
    }
  }
}

/** An HTML character reference at `at` (`&#NN;`, `&#xHH;`, a known name) into `point`, or 0. */
function reference(text: string, at: number): number {
  const end = charWithin(text, SEMICOLON, at + 2, at + 15);
  if (end < 0) return 0;
  if (text.charCodeAt(at + 1) === HASH) {
    const hex = (text.charCodeAt(at + 2) | 0x20) === 120;
    const value = hex ? hexNumber(text, at + 3, end) : decimalNumber(text, at + 2, end);
    if (value < 0 || value > 0x10ffff) return 0;
    point = value;
    return end + 1 - at;
  }
  const char = NAMED.get(text.slice(at + 1, end));
  if (char === undefined) return 0;
  point = char.charCodeAt(0);
  return end + 1 - at;
}

/** The kinds of byte escapes: `%HH`, `\xHH`, `\NNN`. */
const PERCENT_BYTE = 0;
const HEX_BYTE_ESCAPE = 1;
const OCTAL_BYTE = 2;

/** The byte `byteEscape` read last. */
let byte = 0;

/** One byte escape of `kind` at `at` into `byte`; returns the characters taken, 0 when none is there. */
function byteEscape(text: string, at: number, kind: number): number {
  if (kind === PERCENT_BYTE) {
    if (at + 2 >= text.length || text.charCodeAt(at) !== PERCENT) return 0;
    const value = hexNumber(text, at + 1, at + 3);
    if (value < 0) return 0;
    byte = value;
    return 3;
  }
  if (text.charCodeAt(at) !== BACKSLASH) return 0;
  if (kind === HEX_BYTE_ESCAPE) {
    if (at + 3 >= text.length || text.charCodeAt(at + 1) !== 120) return 0;
    const value = hexNumber(text, at + 2, at + 4);
    if (value < 0) return 0;
    byte = value;
    return 4;
  }
  // Octal: one to three digits, as many as stay a byte.
  let value = 0;
  let k = 1;
  for (; k <= 3; k++) {
    const digit = text.charCodeAt(at + k) - 48;
    if (!(digit >= 0 && digit <= 7) || value * 8 + digit > 0xff) break;
    value = value * 8 + digit;
  }
  if (k === 1) return 0;
  byte = value;
  return k;
}

/**
 * Decodes the byte escapes of one character at `at` (one for ASCII, two to four for valid UTF-8)
 * into `point`; returns the characters taken, 0 when there is no such character there. With
 * `latin1`, a byte that starts no valid UTF-8 is the code point of its value (Python's `'\xe9'`).
 */
function bytes(text: string, at: number, kind: number, latin1: boolean): number {
  const first = byteEscape(text, at, kind);
  if (first === 0) return 0;
  const lead = byte;
  if (lead < 0x80) {
    point = lead;
    return first;
  }
  const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 0;
  let taken = first;
  let value = lead & (0x7f >> length);
  let valid = length > 0 && lead <= 0xf4;
  for (let k = 1; valid && k < length; k++) {
    const more = byteEscape(text, at + taken, kind);
    if (more === 0 || (byte & 0xc0) !== 0x80) valid = false;
    else {
      value = (value << 6) | (byte & 0x3f);
      taken += more;
    }
  }
  if (
    valid &&
    !(
      (length === 3 && (value < 0x800 || (value >= 0xd800 && value <= 0xdfff))) ||
      (length === 4 && (value < 0x10000 || value > 0x10ffff))
    )
  ) {
    point = value;
    return taken;
  }
  if (!latin1) return 0;
  point = lead;
  return first;
}

/**
 * The runs of hex bytes of `text` read as their bytes (UTF-8 where valid, else one character a
 * byte); their separators and `0x` prefixes are taken out of the view.
 */
function hexView(text: string): Unescaped | undefined {
  if (text.length < 2 * WINDOW) return undefined;
  HEX_RUN.lastIndex = 0;
  let match = HEX_RUN.exec(text);
  if (match === null) return undefined;
  const escapes: number[] = [];
  const pieces: string[] = [];
  let length = 0;
  let raw = 0;
  const values: number[] = [];
  const spans: number[] = [];
  for (; match !== null; match = HEX_RUN.exec(text)) {
    const end = match.index + match[0].length;
    values.length = 0;
    spans.length = 0;
    for (let at = match.index; at < end; ) {
      const start = at;
      if (text.charCodeAt(at) === 48 && (text.charCodeAt(at + 1) | 0x20) === 120) at += 2;
      values.push(hexNumber(text, at, at + 2));
      at += 2;
      spans.push(start, at);
      while (at < end && hexDigit(text.charCodeAt(at)) < 0) at += 1;
    }
    pieces.push(text.slice(raw, match.index));
    length += match.index - raw;
    for (let k = 0; k < values.length; ) {
      const bytes = utf8Length(values, k);
      const taken = bytes === 0 ? 1 : bytes;
      const chars =
        bytes === 0 ? String.fromCharCode(values[k]!) : String.fromCodePoint(utf8Value(values, k, bytes));
      // A separator: out of the view.
      if (k > 0 && spans[2 * k - 1]! < spans[2 * k]!)
        escapes.push(length, length, spans[2 * k - 1]!, spans[2 * k]!);
      escapes.push(length, length + chars.length, spans[2 * k]!, spans[2 * (k + taken) - 1]!);
      pieces.push(chars);
      length += chars.length;
      k += taken;
    }
    raw = end;
  }
  if (escapes.length === 0) return undefined;
  pieces.push(text.slice(raw));
  return { text: pieces.join(''), parent: undefined, escapes };
}

/** How many bytes of valid UTF-8 start at `k` (1 to 4), or 0. */
function utf8Length(values: readonly number[], k: number): number {
  const lead = values[k]!;
  if (lead < 0x80) return 1;
  const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 0;
  if (length === 0 || lead > 0xf4 || k + length > values.length) return 0;
  for (let j = 1; j < length; j++) if ((values[k + j]! & 0xc0) !== 0x80) return 0;
  const value = utf8Value(values, k, length);
  if (
    (length === 3 && (value < 0x800 || (value >= 0xd800 && value <= 0xdfff))) ||
    (length === 4 && (value < 0x10000 || value > 0x10ffff))
  )
    return 0;
  return length;
}

function utf8Value(values: readonly number[], k: number, length: number): number {
  let value = values[k]! & (0x7f >> (length === 1 ? 0 : length));
  for (let j = 1; j < length; j++) value = (value << 6) | (values[k + j]! & 0x3f);
  return value;
}

/**
 * The line breaks of `text` (each with the indentation after it), as `[start, end)` pairs; none
 * (one or two scans) for a text on one line.
 */
export function lineBreaks(text: string): number[] {
  const breaks: number[] = [];
  let at = text.indexOf('\n');
  let cr = text.indexOf('\r');
  while (at >= 0 || cr >= 0) {
    // The first of the next `\n` and the next `\r` (a `\r\n` is one break).
    const start = at < 0 || (cr >= 0 && cr < at) ? cr : at;
    let end = start + 1;
    if (text.charCodeAt(start) === 13 && text.charCodeAt(end) === 10) end += 1;
    while (text.charCodeAt(end) === 32 || text.charCodeAt(end) === 9) end += 1;
    breaks.push(start, end);
    if (at >= 0 && at < end) at = text.indexOf('\n', end);
    if (cr >= 0 && cr < end) cr = text.indexOf('\r', end);
  }
  return breaks;
}

/** `text` with its line breaks (and the indentation after each) taken out. */
export function joinedLines(text: string): Unescaped | undefined {
  if (text.indexOf('\n') < 0 && text.indexOf('\r') < 0) return undefined;
  const escapes: number[] = [];
  const pieces: string[] = [];
  let length = 0;
  let raw = 0;
  LINE_BREAK.lastIndex = 0;
  for (let match = LINE_BREAK.exec(text); match !== null; match = LINE_BREAK.exec(text)) {
    pieces.push(text.slice(raw, match.index));
    length += match.index - raw;
    raw = match.index + match[0].length;
    escapes.push(length, length, match.index, raw);
  }
  pieces.push(text.slice(raw));
  return { text: pieces.join(''), parent: undefined, escapes };
}

/** Where `code` first occurs in `text` within `[start, end)`, or -1 (a bounded look, never a scan). */
function charWithin(text: string, code: number, start: number, end: number): number {
  const last = Math.min(end, text.length);
  for (let k = start; k < last; k++) if (text.charCodeAt(k) === code) return k;
  return -1;
}

/** The number the hex digits of `text` in `[start, end)` write, or -1. */
function hexNumber(text: string, start: number, end: number): number {
  if (end <= start || end > text.length) return -1;
  let value = 0;
  for (let k = start; k < end; k++) {
    const digit = hexDigit(text.charCodeAt(k));
    if (digit < 0) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** The number the decimal digits of `text` in `[start, end)` write, or -1. */
function decimalNumber(text: string, start: number, end: number): number {
  if (end <= start || end - start > 7) return -1;
  let value = 0;
  for (let k = start; k < end; k++) {
    const digit = text.charCodeAt(k) - 48;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}
