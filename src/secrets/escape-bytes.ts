import { hexNumber, read } from './escape-reader.ts';

// Byte escapes, for the scrubber's decoder: `%HH` (URLs), `\xHH` and octal `\NNN` (C, Python,
// shells), each writing one byte; a character is the escapes of its UTF-8 bytes in a row.

/** The kinds of byte escapes: `%HH`, `\xHH`, `\NNN`. */
export const PERCENT_BYTE = 0;
export const HEX_BYTE_ESCAPE = 1;
export const OCTAL_BYTE = 2;

const PERCENT = 37;
const BACKSLASH = 92;

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
 * into `read.point`; returns the characters taken, 0 when there is no such character there. With
 * `latin1`, a byte that starts no valid UTF-8 is the code point of its value (Python's `'\xe9'`).
 */
export function escapedBytes(text: string, at: number, kind: number, latin1: boolean): number {
  const first = byteEscape(text, at, kind);
  if (first === 0) return 0;
  const lead = byte;
  if (lead < 0x80) {
    read.point = lead;
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
    read.point = value;
    return taken;
  }
  if (!latin1) return 0;
  read.point = lead;
  return first;
}
