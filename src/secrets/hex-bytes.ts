import { hexDigit, hexNumber } from './escape-reader.ts';
import { WINDOW } from './text-search.ts';
import type { Unescaped } from './unescaped.ts';

// Hex dumps with separators, for the scrubber: the bytes of `73 6b`, `73:6B` or `0x73, 0x6b`
// read as the text they encode, in a view of the original.

/**
 * A run of at least `WINDOW` hex bytes on one line, each separated from the next (one or two
 * spaces, a colon, a comma and perhaps a space), each perhaps `0x`-prefixed. Hex
 * wrapped over lines is found by joining them; hex written together is found by the patterns
 * (its letters in any case, text-search.ts).
 */
const HEX_RUN = new RegExp(
  `(?:0[xX])?[0-9A-Fa-f]{2}(?:(?:, ?|  ?|:)(?:0[xX])?[0-9A-Fa-f]{2}){${WINDOW - 1},}`,
  'g',
);

/**
 * The runs of hex bytes of `text` read as their bytes (UTF-8 where valid, else one character a
 * byte); their separators and `0x` prefixes are taken out of the view.
 */
export function hexView(text: string): Unescaped | undefined {
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
