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
 * MIME): the scrubber uses it around the breaks that a pattern could run across. Each family is
 * read in its own module (escape-bytes.ts, escape-backslash.ts, escape-html.ts, hex-bytes.ts,
 * line-breaks.ts); views map back onto the original through unescaped.ts.
 */
import { backslash } from './escape-backslash.ts';
import { escapedBytes, PERCENT_BYTE } from './escape-bytes.ts';
import { reference } from './escape-html.ts';
import { read } from './escape-reader.ts';
import { hexView } from './hex-bytes.ts';
import type { Unescaped } from './unescaped.ts';

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
const PERCENT = 37;
const AMPERSAND = 38;
const PLUS = 43;

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

/** `text` with its escapes undone, greedily from the left (each family reads its own), or none. */
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
      taken = escapedBytes(text, i, PERCENT_BYTE, false);
    } else if (code === AMPERSAND) {
      taken = reference(text, i);
    } else if (code === PLUS) {
      taken = 1;
      read.point = 32;
    } else if (i + 1 < n) {
      taken = backslash(text, i, short);
    }
    if (taken === 0) {
      i += 1;
      continue;
    }
    const chars = read.unit >= 0 ? String.fromCharCode(read.unit) : String.fromCodePoint(read.point);
    read.unit = -1;
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
