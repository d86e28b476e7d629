import { escapedBytes, HEX_BYTE_ESCAPE, OCTAL_BYTE } from './escape-bytes.ts';
import { charWithin, hexNumber, read } from './escape-reader.ts';

// Backslash escapes, for the scrubber's decoder: `\uHHHH` (JSON, JavaScript), `\u{H…}`
// (JavaScript, Rust, Swift), `\UHHHHHHHH` (Python, C), `\xHH` and octal `\NNN` (their UTF-8 bytes,
// escape-bytes.ts), and JSON's two-character escapes.

const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
/** JSON's two-character escapes, by the character after the backslash. */
const SHORT: ReadonlyMap<number, number> = new Map(
  [...'"\\/bfnrt'].map((c, i) => [c.charCodeAt(0), '"\\/\b\f\n\r\t'.charCodeAt(i)]),
);

/**
 * A backslash escape at `at` read into `read`; returns the characters taken, or 0. Without
 * `short`, JSON's two-character escapes are not read (a raw backslash of the value before one).
 */
export function backslash(text: string, at: number, short: boolean): number {
  const next = text.charCodeAt(at + 1);
  switch (next) {
    case 117: // u
      if (text.charCodeAt(at + 2) === OPEN_BRACE) {
        const close = charWithin(text, CLOSE_BRACE, at + 4, at + 10);
        if (close < 0) return 0;
        const value = hexNumber(text, at + 3, close);
        if (value < 0 || value > 0x10ffff) return 0;
        read.point = value;
        return close + 1 - at;
      }
      if (at + 5 >= text.length) return 0;
      read.unit = hexNumber(text, at + 2, at + 6);
      return read.unit < 0 ? 0 : 6;
    case 85: {
      // U
      if (at + 9 >= text.length) return 0;
      const value = hexNumber(text, at + 2, at + 10);
      if (value < 0 || value > 0x10ffff) return 0;
      read.point = value;
      return 10;
    }
    case 120: // x
      return escapedBytes(text, at, HEX_BYTE_ESCAPE, true);
    default: {
      if (next >= 48 && next <= 55) return escapedBytes(text, at, OCTAL_BYTE, true);
      const shortUnit = short ? SHORT.get(next) : undefined;
      if (shortUnit === undefined) return 0;
      read.unit = shortUnit;
      return 2;
    }
  }
}
