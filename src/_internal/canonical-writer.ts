import { definedEntries, planOf } from './canonical.ts';
import { CapturedArray, CapturedObject } from './canonical-capture.ts';

/** `buf.write(text, offset, length, encoding)` for one encoding: returns the bytes written. */
type EncodedWrite = (this: Buffer, text: string, offset: number, length: number) => number;

/**
 * Node's per-encoding writers (`latin1Write`, `utf8Write` on `Buffer.prototype`, present in every
 * supported version but not documented) skip `buf.write`'s argument parsing and encoding lookup,
 * which cost about as much as a short copy itself. Anywhere they are missing, `buf.write` it is.
 */
export function encodedWrite(
  proto: object,
  name: 'latin1Write' | 'utf8Write',
  encoding: BufferEncoding,
): EncodedWrite {
  const own = (proto as Record<string, unknown>)[name];
  if (typeof own === 'function') return own as EncodedWrite;
  return function (this: Buffer, text: string, offset: number, length: number): number {
    return this.write(text, offset, length, encoding);
  };
}
const latin1Write = encodedWrite(Buffer.prototype, 'latin1Write', 'latin1');
const utf8Write = encodedWrite(Buffer.prototype, 'utf8Write', 'utf8');

/**
 * Writes canonical JSON as UTF-8 straight into a byte buffer: the same bytes as
 * `Buffer.from(canonicalJson(value))`, without building the string first. For hot writers (the
 * audit log) that need the bytes anyway: no intermediate strings for keys, plain strings or
 * integers. `bytes` grows as needed; `length` is how much of it is written.
 */
export class CanonicalWriter {
  bytes: Buffer;
  length = 0;

  /** `allocate` makes its buffers (e.g. on shared memory, to hand them to another thread). */
  constructor(
    capacity: number = 64 * 1024,
    private readonly allocate: (size: number) => Buffer = Buffer.allocUnsafe,
  ) {
    this.bytes = allocate(capacity);
  }

  /** Makes room for `extra` more bytes. */
  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    const bigger = this.allocate(Math.max(needed, this.bytes.length * 2));
    this.bytes.copy(bigger, 0, 0, this.length);
    this.bytes = bigger;
  }

  /** Appends bytes as they are. */
  raw(bytes: Uint8Array): void {
    const n = bytes.length;
    this.reserve(n);
    const out = this.bytes;
    let at = this.length;
    if (n > 32) {
      out.set(bytes, at);
      at += n;
    } else for (let i = 0; i < n; i++) out[at++] = bytes[i]!;
    this.length = at;
  }

  /** Appends an ASCII string as it is (no quoting, no checks): for text the caller built. */
  ascii(text: string): void {
    const n = text.length;
    this.reserve(n);
    const out = this.bytes;
    if (n > LONG_ASCII) {
      // Longer text: one native copy beats a loop.
      this.length += latin1Write.call(out, text, this.length, n);
      return;
    }
    let at = this.length;
    for (let i = 0; i < n; i++) out[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /**
   * Appends the canonical JSON of `value` (captures, src/_internal/canonical-capture.ts, as the
   * data they hold). Throws like `canonicalJson`.
   */
  value(value: unknown): void {
    switch (typeof value) {
      case 'string':
        this.string(value);
        return;
      case 'number':
        this.number(value);
        return;
      case 'boolean':
        this.ascii(value ? 'true' : 'false');
        return;
      case 'object': {
        if (value === null) {
          this.ascii('null');
          return;
        }
        if (value instanceof CapturedObject) {
          this.object(value.keys, value.values);
          return;
        }
        if (value instanceof CapturedArray) {
          this.array(value.items);
          return;
        }
        if (Array.isArray(value)) {
          this.array(value);
          return;
        }
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record);
        if (keys.length === 0) {
          this.ascii('{}');
          return;
        }
        const values = Object.values(record);
        if (values.length !== keys.length)
          throw new TypeError('canonicalJson: the object changed while read');
        this.members(keys, values);
        return;
      }
      default:
        throw new TypeError(`canonicalJson: ${typeof value} is not JSON data`);
    }
  }

  /**
   * Appends the canonical JSON of an object's own enumerable properties that are not `undefined`
   * (each read once): the bytes of `canonicalJson` of a copy without them, without the copy.
   */
  objectOmittingUndefined(record: Readonly<Record<string, unknown>>): void {
    const { keys, values } = definedEntries(record);
    this.object(keys, values);
  }

  /**
   * Appends an object given as its keys and their values (in the same order), and
   * `extraKey`/`extraValue` as one more member when both are given.
   */
  object(keys: readonly string[], values: readonly unknown[], extraKey?: string, extraValue?: unknown): void {
    if (extraKey !== undefined && extraValue !== undefined) this.members(keys, values, extraKey, extraValue);
    else if (keys.length === 0) this.ascii('{}');
    else this.members(keys, values);
  }

  private array(items: readonly unknown[]): void {
    this.reserve(1);
    this.bytes[this.length++] = 0x5b; // [
    for (let i = 0; i < items.length; i++) {
      if (i > 0) {
        this.reserve(1);
        this.bytes[this.length++] = 0x2c; // ,
      }
      this.value(items[i]);
    }
    this.reserve(1);
    this.bytes[this.length++] = 0x5d; // ]
  }

  /**
   * An object's members in sorted key order, and its closing brace (the plan writes the opening
   * one); `extraKey` and `extraValue` are one more member after `keys` and `values`.
   */
  private members(
    keys: readonly string[],
    values: readonly unknown[],
    extraKey?: string,
    extraValue?: unknown,
  ): void {
    const plan = planOf(keys, extraKey);
    const order = plan.order;
    const prefixes = plan.prefixBytes;
    const lastValues = plan.lastValues;
    const lastBytes = plan.lastBytes;
    const count = values.length;
    for (let i = 0; i < order.length; i++) {
      const index = order[i]!;
      const value = index < count ? values[index] : extraValue;
      // A scalar is its own content (compared by value, never by identity): the same one as last
      // time in this member has the same bytes.
      if (value === lastValues[i] && value !== undefined) {
        const known = lastBytes[i];
        if (known !== undefined) {
          this.raw(known);
          continue;
        }
        const from = this.length;
        this.raw(prefixes[i]!);
        this.value(value);
        lastBytes[i] = Buffer.from(this.bytes.subarray(from, this.length));
        continue;
      }
      const kind = typeof value;
      lastValues[i] =
        kind === 'number' ||
        kind === 'boolean' ||
        (kind === 'string' && (value as string).length <= MEMO_CHARS)
          ? value
          : undefined;
      lastBytes[i] = undefined;
      this.raw(prefixes[i]!);
      this.value(value);
    }
    this.reserve(1);
    this.bytes[this.length++] = 0x7d; // }
  }

  /** Appends a number as Number::toString writes it (as JSON.stringify does); throws when not finite. */
  number(value: number): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      this.ascii(String(value));
      return;
    }
    // Counts and timestamps: the decimal digits, without a string (-0 is written `0`, as String
    // does). Past 10^8 (timestamps) the value is split into parts below it, so every step of the
    // digit loops is small-integer arithmetic rather than floating-point division.
    if (value < 1e8) {
      this.digits(value, digitCount(value));
      return;
    }
    const high = Math.floor(value / 1e8);
    this.digits(high, digitCount(high));
    this.digits(value - high * 1e8, 8);
  }

  /** Appends `value` (an integer below 10^8) as exactly `count` digits, with leading zeros. */
  private digits(value: number, count: number): void {
    this.reserve(count);
    const out = this.bytes;
    let at = this.length + count;
    this.length = at;
    let rest = value | 0;
    for (let i = 0; i < count; i++) {
      const tens = (rest / 10) | 0;
      out[--at] = 0x30 + rest - tens * 10;
      rest = tens;
    }
  }

  /** Appends a JSON string literal: JSON.stringify's escapes, UTF-8, lone surrogates as `\udxxx`. */
  string(text: string): void {
    const n = text.length;
    // Worst case: six bytes (`\u00xx`) per code unit, plus the quotes.
    this.reserve(n * 6 + 2);
    const out = this.bytes;
    const start = this.length + 1;
    out[start - 1] = 0x22;
    let at = start;
    if (n >= NATIVE_STRING) {
      // One native UTF-8 copy, then a look at the bytes: as many bytes as code units means all
      // ASCII (no surrogate either); it stands when no byte needs an escape.
      if (utf8Write.call(out, text, at, out.length - at) === n) {
        const end = at + n;
        while (at < end) {
          const byte = out[at]!;
          if (byte < 0x20 || byte === 0x22 || byte === 0x5c) break;
          at += 1;
        }
        if (at === end) {
          out[end] = 0x22;
          this.length = end + 1;
          return;
        }
      }
      at = start;
    } else {
      // Short strings (always flat, so charCodeAt is cheap): plain ASCII copied in a loop.
      let i = 0;
      for (; i < n; i++) {
        const code = text.charCodeAt(i);
        if (code < 0x20 || code >= 0x80 || code === 0x22 || code === 0x5c) break;
        out[at++] = code;
      }
      if (i === n) {
        out[at] = 0x22;
        this.length = at + 1;
        return;
      }
      at = start;
    }
    at = escapeInto(out, at, text);
    out[at] = 0x22;
    this.length = at + 1;
  }
}

/**
 * Writes `text` as the inside of a JSON string literal at `at` (room for six bytes per code unit
 * is the caller's), with JSON.stringify's escapes, as UTF-8; returns the end.
 */
function escapeInto(out: Buffer, start: number, text: string): number {
  let at = start;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      if (code >= 0x20 && code !== 0x22 && code !== 0x5c) {
        out[at++] = code;
        continue;
      }
      out[at++] = 0x5c; // backslash
      const short = SHORT_ESCAPES[code];
      if (short !== undefined) out[at++] = short;
      else {
        // \u00xx, lowercase hex
        out[at++] = 0x75;
        out[at++] = 0x30;
        out[at++] = 0x30;
        out[at++] = HEX_DIGITS[code >> 4]!;
        out[at++] = HEX_DIGITS[code & 15]!;
      }
    } else if (code < 0x800) {
      out[at++] = 0xc0 | (code >> 6);
      out[at++] = 0x80 | (code & 0x3f);
    } else if (code < 0xd800 || code > 0xdfff) {
      out[at++] = 0xe0 | (code >> 12);
      out[at++] = 0x80 | ((code >> 6) & 0x3f);
      out[at++] = 0x80 | (code & 0x3f);
    } else {
      const next = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (code <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        const point = 0x10000 + ((code - 0xd800) << 10) + (next - 0xdc00);
        out[at++] = 0xf0 | (point >> 18);
        out[at++] = 0x80 | ((point >> 12) & 0x3f);
        out[at++] = 0x80 | ((point >> 6) & 0x3f);
        out[at++] = 0x80 | (point & 0x3f);
        i += 1;
      } else {
        // A lone surrogate: escaped, as JSON.stringify (and so canonicalJson) writes it.
        out[at++] = 0x5c;
        out[at++] = 0x75;
        out[at++] = HEX_DIGITS[code >> 12]!;
        out[at++] = HEX_DIGITS[(code >> 8) & 15]!;
        out[at++] = HEX_DIGITS[(code >> 4) & 15]!;
        out[at++] = HEX_DIGITS[code & 15]!;
      }
    }
  }
  return at;
}

/** Longest string a plan remembers as the last value of a member (see `Plan.lastValues`). */
const MEMO_CHARS = 256;
/** Decimal digits of a non-negative integer below 10^8. */
function digitCount(value: number): number {
  if (value < 1e4) return value < 10 ? 1 : value < 100 ? 2 : value < 1e3 ? 3 : 4;
  return value < 1e5 ? 5 : value < 1e6 ? 6 : value < 1e7 ? 7 : 8;
}

/** From this length on, ASCII text the caller built is copied natively rather than in a loop. */
const LONG_ASCII = 24;
/**
 * From this length on, strings are encoded natively. A native write costs ~70 ns before its first
 * byte (Node 20, Zen 4), a loop ~1 ns a character: for flat strings the loop wins up to ~40
 * characters (17 characters: 45 against 80 ns). Concatenations (ids built with a template) cost
 * the same either way at that length, since both first flatten them.
 */
const NATIVE_STRING = 40;
const HEX_DIGITS = Buffer.from('0123456789abcdef', 'latin1');
/** The one-letter escapes of JSON.stringify, by character code. */
const SHORT_ESCAPES: Record<number, number> = {
  8: 0x62, // \b
  9: 0x74, // \t
  10: 0x6e, // \n
  12: 0x66, // \f
  13: 0x72, // \r
  34: 0x22, // \"
  92: 0x5c, // \\
};
