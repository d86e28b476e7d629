import { createHash, hash } from 'node:crypto';

/**
 * Canonical JSON (RFC 8785 / JCS) of a value already known to be plain JSON data (a snapshot):
 * object keys sorted by UTF-16 code units, no whitespace, ECMAScript number and string forms.
 * Throws on values JSON cannot represent exactly (non-finite numbers, undefined, functions).
 */
export function canonicalJson(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return quoteString(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      // Number::toString, as JSON.stringify uses; String(-0) is '0'.
      return String(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        if (value.length === 0) return '[]';
        let out = `[${canonicalJson(value[0])}`;
        for (let i = 1; i < value.length; i++) out += `,${canonicalJson(value[i])}`;
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record);
      if (keys.length === 0) return '{}';
      const plan = planOf(keys);
      const sorted = plan.sorted;
      const prefixes = plan.prefixes;
      let out = '';
      for (let i = 0; i < sorted.length; i++) out += prefixes[i]! + member(record[sorted[i]!]);
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonicalJson: ${typeof value} is not JSON data`);
  }
}

/**
 * Canonical JSON of an object whose properties set to `undefined` are left out (as JSON.stringify
 * leaves them out), e.g. an audit event with optional fields: the same text as `canonicalJson` of
 * a copy without them, without making the copy. Each property is read once.
 */
export function canonicalObjectOmittingUndefined(record: Readonly<Record<string, unknown>>): string {
  const { keys, values } = definedEntries(record);
  if (keys.length === 0) return '{}';
  const plan = planOf(keys);
  const order = plan.order;
  const prefixes = plan.prefixes;
  let out = '';
  for (let i = 0; i < order.length; i++) out += prefixes[i]! + member(values[order[i]!]);
  return `${out}}`;
}

/** The own enumerable keys and values of `record` that are not `undefined`, each read once. */
function definedEntries(record: Readonly<Record<string, unknown>>): { keys: string[]; values: unknown[] } {
  const keys = Object.keys(record);
  // One native call reads every value (an accessor once), in the order of `keys`.
  const values: unknown[] = Object.values(record);
  if (values.length !== keys.length) throw new TypeError('canonicalJson: the object changed while read');
  let defined = 0;
  for (let i = 0; i < values.length; i++) if (values[i] !== undefined) defined += 1;
  if (defined === keys.length) return { keys, values };
  const present: string[] = [];
  const presentValues: unknown[] = [];
  for (let i = 0; i < keys.length; i++) {
    if (values[i] === undefined) continue;
    present.push(keys[i]!);
    presentValues.push(values[i]);
  }
  return { keys: present, values: presentValues };
}

/** `canonicalJson` with the common scalars tested first (the calls for them are the bulk). */
function member(value: unknown): string {
  if (typeof value === 'string') return quoteString(value);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  return canonicalJson(value);
}

/** Characters JSON.stringify escapes in a string: quote, backslash, controls, surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify of a string, without its machinery for the common plain string. */
function quoteString(text: string): string {
  const length = text.length;
  if (length > 32) return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
  // Short strings (most values): a loop is cheaper than entering the regular expression engine.
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x22 || code === 0x5c || (code >= 0xd800 && code <= 0xdfff))
      return JSON.stringify(text);
  }
  return `"${text}"`;
}

/**
 * How to write an object with these own keys (in this order): the keys in UTF-16 code-unit order,
 * their positions in `keys`, and the text before each value (`{"a":`, `,"b":`, …). Objects of
 * the same shape (audit records, args of one tool) list the same keys in the same order, so plans
 * are remembered per first key and reused when every key matches (property keys are interned:
 * comparing them is cheap).
 */
interface Plan {
  readonly keys: readonly string[];
  readonly sorted: readonly string[];
  readonly order: readonly number[];
  readonly prefixes: readonly string[];
  /** `prefixes` as UTF-8. */
  readonly prefixBytes: readonly Buffer[];
}
const plans = new Map<string, Plan[]>();
let planCount = 0;
function planOf(keys: readonly string[]): Plan {
  const first = keys[0]!;
  const known = plans.get(first);
  if (known !== undefined) {
    for (let p = 0; p < known.length; p++) {
      const plan = known[p]!;
      const planKeys = plan.keys;
      if (planKeys.length !== keys.length) continue;
      let same = true;
      for (let i = 1; i < keys.length; i++) {
        if (planKeys[i] !== keys[i]) {
          same = false;
          break;
        }
      }
      if (same) return plan;
    }
  }
  const order = keys
    .map((_, i) => i)
    .sort((a, b) => (keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  const sorted = order.map((i) => keys[i]!);
  const prefixes = sorted.map((key, i) => `${i === 0 ? '{' : ','}${JSON.stringify(key)}:`);
  const prefixBytes = prefixes.map((prefix) => Buffer.from(prefix, 'utf8'));
  const plan: Plan = { keys: [...keys], sorted, order, prefixes, prefixBytes };
  // Bounded: shapes are few in practice; a stream of one-off shapes just is not remembered.
  let chars = 0;
  for (const key of keys) chars += key.length;
  if (keys.length <= 64 && chars <= 4_096 && planCount < 2_000 && (known?.length ?? 0) < 16) {
    planCount += 1;
    if (known === undefined) plans.set(first, [plan]);
    else known.push(plan);
  }
  return plan;
}

/** Lowercase hex SHA-256 of a string (UTF-8). */
export function sha256Hex(text: string): string {
  // crypto.hash (Node >= 20.12) is a one-shot without a Hash object: about 3x faster for short input.
  return typeof hash === 'function'
    ? hash('sha256', text, 'hex')
    : createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Lowercase hex SHA-256 of the canonical JSON of `value`: the `argsHash` of toolgate. */
export function hashJson(value: unknown): string {
  return sha256Hex(canonicalJson(value));
}

/**
 * Writes canonical JSON as UTF-8 straight into a byte buffer: the same bytes as
 * `Buffer.from(canonicalJson(value))`, without building the string first. For hot writers (the
 * audit log) that need the bytes anyway: no intermediate strings for keys, plain strings or
 * small integers. `bytes` grows as needed; `length` is how much of it is written.
 */
export class CanonicalWriter {
  bytes: Buffer;
  length = 0;

  constructor(capacity: number = 64 * 1024) {
    this.bytes = Buffer.allocUnsafe(capacity);
  }

  /** Makes room for `extra` more bytes. */
  reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.bytes.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(needed, this.bytes.length * 2));
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
    if (n > LONG) {
      // Longer text: one native copy beats a loop.
      this.length += out.write(text, this.length, n, 'latin1');
      return;
    }
    let at = this.length;
    for (let i = 0; i < n; i++) out[at++] = text.charCodeAt(i);
    this.length = at;
  }

  /** Appends the canonical JSON of `value`. Throws like `canonicalJson`. */
  value(value: unknown): void {
    switch (typeof value) {
      case 'string':
        this.string(value);
        return;
      case 'number':
        if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
        this.ascii(String(value));
        return;
      case 'boolean':
        this.ascii(value ? 'true' : 'false');
        return;
      case 'object': {
        if (value === null) {
          this.ascii('null');
          return;
        }
        if (Array.isArray(value)) {
          this.reserve(1);
          this.bytes[this.length++] = 0x5b; // [
          for (let i = 0; i < value.length; i++) {
            if (i > 0) {
              this.reserve(1);
              this.bytes[this.length++] = 0x2c; // ,
            }
            this.value(value[i]);
          }
          this.reserve(1);
          this.bytes[this.length++] = 0x5d; // ]
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
    if (keys.length === 0) this.ascii('{}');
    else this.members(keys, values);
  }

  /** An object's members in sorted key order, and its closing brace (the plan writes the opening one). */
  private members(keys: readonly string[], values: readonly unknown[]): void {
    const plan = planOf(keys);
    const order = plan.order;
    const prefixes = plan.prefixBytes;
    for (let i = 0; i < order.length; i++) {
      this.raw(prefixes[i]!);
      this.value(values[order[i]!]);
    }
    this.reserve(1);
    this.bytes[this.length++] = 0x7d; // }
  }

  /** Appends a JSON string literal: JSON.stringify's escapes, UTF-8, lone surrogates as `\udxxx`. */
  string(text: string): void {
    const n = text.length;
    // Worst case: six bytes (`\u00xx`) per code unit, plus the quotes.
    this.reserve(n * 6 + 2);
    const out = this.bytes;
    let at = this.length;
    out[at++] = 0x22;
    if (n > LONG && !NEEDS_ESCAPE.test(text)) {
      // Longer text with nothing to escape (so no surrogate either): one native UTF-8 copy.
      at += out.write(text, at, n * 3, 'utf8');
      out[at++] = 0x22;
      this.length = at;
      return;
    }
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
    out[at++] = 0x22;
    this.length = at;
  }
}

/** From this length on, strings are copied natively rather than in a loop. */
const LONG = 24;
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
