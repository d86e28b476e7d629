/**
 * Sizes of JSON text in UTF-8 bytes, exactly as the canonical writer (src/_internal/canonical-writer.ts)
 * and JSON.stringify write it, without building the text: `maxArgBytes` counts these bytes.
 */

/**
 * UTF-8 bytes of `text` as a JSON string literal, quotes included: one to four bytes per code
 * point, two for `\"`, `\\` and the one-letter escapes, six for other control characters
 * (`\u00xx`) and for a lone surrogate (`\udxxx`, as JSON.stringify writes it; encoding it as
 * UTF-8 would give the three bytes of U+FFFD instead). Counting stops once the total passes
 * `limit` (the result is then some number above `limit`), so the work is bounded by
 * `min(text.length, limit)`: every code unit is at least one byte.
 */
export function jsonStringBytes(text: string, limit: number = Number.POSITIVE_INFINITY): number {
  const n = text.length;
  let bytes = n + 2;
  if (bytes > limit) return bytes;
  for (let i = 0; i < n; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      // Printable ASCII is the one byte already counted.
      if (code >= 0x20 && code !== 0x22 && code !== 0x5c) continue;
      bytes += code === 0x22 || code === 0x5c || SHORT_ESCAPE[code] === 1 ? 1 : 5;
    } else if (code < 0x800) {
      bytes += 1;
    } else if (code < 0xd800 || code > 0xdfff) {
      bytes += 2;
    } else if (code <= 0xdbff && i + 1 < n && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: one code point, four bytes for its two code units.
      bytes += 2;
      i += 1;
    } else {
      bytes += 5;
    }
    if (bytes > limit) return bytes;
  }
  return bytes;
}

/** Control characters JSON.stringify writes with a one-letter escape (`\b \t \n \f \r`). */
const SHORT_ESCAPE: readonly number[] = (() => {
  const table = new Array<number>(0x20).fill(0);
  for (const code of [8, 9, 10, 12, 13]) table[code] = 1;
  return table;
})();

/** Length of a finite number as JSON writes it (ECMAScript `Number::toString`); `-0` is `0`. */
export function jsonNumberBytes(value: number): number {
  if (Number.isInteger(value) && value > -1e21 && value < 1e21) {
    // Integers below 1e21 print as plain digits; powers of ten up to 1e21 are exact doubles.
    let digits = 1;
    const magnitude = value < 0 ? -value : value;
    for (let power = 10; power <= magnitude; power *= 10) digits += 1;
    return value < 0 ? digits + 1 : digits;
  }
  return String(value).length;
}
