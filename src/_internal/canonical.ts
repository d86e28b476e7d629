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
export function definedEntries(record: Readonly<Record<string, unknown>>): {
  keys: string[];
  values: unknown[];
} {
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
export interface Plan {
  readonly keys: readonly string[];
  readonly sorted: readonly string[];
  readonly order: readonly number[];
  readonly prefixes: readonly string[];
  /** `prefixes` as UTF-8. */
  readonly prefixBytes: readonly Buffer[];
  /**
   * For the byte writer (src/_internal/canonical-writer.ts), per member in sorted order: the last
   * scalar written there, and once the same value came twice in a row, the bytes of its prefix and
   * value. Fields that repeat from record to record (a tool name, a policy version) are then copied
   * as they are.
   */
  readonly lastValues: unknown[];
  readonly lastBytes: (Buffer | undefined)[];
}
const plans = new Map<string, Plan[]>();
let planCount = 0;
export function planOf(keys: readonly string[], extra?: string): Plan {
  // `extra`: one more key after `keys` (a field the object's class computes), without a copy.
  const count = extra === undefined ? keys.length : keys.length + 1;
  const first = keys.length > 0 ? keys[0]! : extra!;
  const known = plans.get(first);
  if (known !== undefined) {
    for (let p = 0; p < known.length; p++) {
      const plan = known[p]!;
      const planKeys = plan.keys;
      if (planKeys.length !== count) continue;
      let same = extra === undefined || planKeys[keys.length] === extra;
      for (let i = 1; same && i < keys.length; i++) if (planKeys[i] !== keys[i]) same = false;
      if (same) return plan;
    }
  }
  const all = extra === undefined ? [...keys] : [...keys, extra];
  const order = all.map((_, i) => i).sort((a, b) => (all[a]! < all[b]! ? -1 : all[a]! > all[b]! ? 1 : 0));
  const sorted = order.map((i) => all[i]!);
  const prefixes = sorted.map((key, i) => `${i === 0 ? '{' : ','}${JSON.stringify(key)}:`);
  const prefixBytes = prefixes.map((prefix) => Buffer.from(prefix, 'utf8'));
  const plan: Plan = {
    keys: all,
    sorted,
    order,
    prefixes,
    prefixBytes,
    lastValues: new Array(all.length).fill(undefined),
    lastBytes: new Array(all.length).fill(undefined),
  };
  // Bounded: shapes are few in practice; a stream of one-off shapes just is not remembered.
  let chars = 0;
  for (const key of all) chars += key.length;
  if (all.length <= 64 && chars <= 4_096 && planCount < 2_000 && (known?.length ?? 0) < 16) {
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
