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
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          out += canonicalJson(value[i]);
        }
        return `${out}]`;
      }
      const record = value as Record<string, unknown>;
      const keys = sortedKeys(Object.keys(record));
      let out = '{';
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i]!;
        if (i > 0) out += ',';
        out += `${quoteKey(key)}:${canonicalJson(record[key])}`;
      }
      return `${out}}`;
    }
    default:
      throw new TypeError(`canonicalJson: ${typeof value} is not JSON data`);
  }
}

/**
 * Canonical JSON of an object whose properties set to `undefined` are left out (as JSON.stringify
 * leaves them out), e.g. an audit event with optional fields: the same text as `canonicalJson` of
 * a copy without them, without making the copy.
 */
export function canonicalObjectOmittingUndefined(record: Readonly<Record<string, unknown>>): string {
  const keys = sortedKeys(Object.keys(record));
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const value = record[key];
    if (value === undefined) continue;
    if (out.length > 1) out += ',';
    out += `${quoteKey(key)}:${canonicalJson(value)}`;
  }
  return `${out}}`;
}

/** Characters JSON.stringify escapes in a string: quote, backslash, controls, surrogates. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify of a string, without its machinery for the common plain string. */
function quoteString(text: string): string {
  return NEEDS_ESCAPE.test(text) ? JSON.stringify(text) : `"${text}"`;
}

/**
 * `keys` in UTF-16 code-unit order. Objects of the same shape (audit records, args of one tool)
 * list the same keys in the same order, so the sorted order is remembered per first key and
 * reused when every key matches (property keys are interned: comparing them is cheap).
 */
const sortedOrders = new Map<string, { readonly keys: readonly string[]; readonly sorted: string[] }[]>();
function sortedKeys(keys: string[]): string[] {
  let inOrder = true;
  for (let i = 1; i < keys.length; i++) {
    if (keys[i - 1]! > keys[i]!) {
      inOrder = false;
      break;
    }
  }
  if (inOrder) return keys;
  const first = keys[0]!;
  const known = sortedOrders.get(first);
  if (known !== undefined) {
    for (const entry of known) {
      if (entry.keys.length !== keys.length) continue;
      let same = true;
      for (let i = 0; i < keys.length; i++) {
        if (entry.keys[i] !== keys[i]) {
          same = false;
          break;
        }
      }
      if (same) return entry.sorted;
    }
  }
  const sorted = [...keys].sort();
  if (keys.length <= 64 && sortedOrders.size < 1_000 && (known?.length ?? 0) < 8) {
    if (known === undefined) sortedOrders.set(first, [{ keys, sorted }]);
    else known.push({ keys, sorted });
  }
  return sorted;
}

// Keys repeat from call to call; their JSON form is cached (bounded).
const quotedKeys = new Map<string, string>();
function quoteKey(key: string): string {
  let quoted = quotedKeys.get(key);
  if (quoted === undefined) {
    quoted = JSON.stringify(key);
    if (quotedKeys.size < 10_000 && key.length <= 64) quotedKeys.set(key, quoted);
  }
  return quoted;
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
