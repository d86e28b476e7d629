// What the escape decoders share: where each puts what it read, and bounded readers of digits.
// Each decoder answers with the characters it took (0 for none) and leaves what they stand for in
// `read`, so the decoding loop allocates nothing per escape.

/** What the last escape read stands for: `unit`, a UTF-16 unit, when not negative, else `point`. */
export const read: { point: number; unit: number } = { point: 0, unit: -1 };

/** Where `code` first occurs in `text` within `[start, end)`, or -1 (a bounded look, never a scan). */
export function charWithin(text: string, code: number, start: number, end: number): number {
  const last = Math.min(end, text.length);
  for (let k = start; k < last; k++) if (text.charCodeAt(k) === code) return k;
  return -1;
}

/** The number the hex digits of `text` in `[start, end)` write, or -1. */
export function hexNumber(text: string, start: number, end: number): number {
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
export function decimalNumber(text: string, start: number, end: number): number {
  if (end <= start || end - start > 7) return -1;
  let value = 0;
  for (let k = start; k < end; k++) {
    const digit = text.charCodeAt(k) - 48;
    if (!(digit >= 0 && digit <= 9)) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/** The value of a hex digit in either case, or -1. */
export function hexDigit(code: number): number {
  if (code >= 48 && code <= 57) return code - 48;
  const lower = code | 0x20;
  return lower >= 97 && lower <= 102 ? lower - 87 : -1;
}
