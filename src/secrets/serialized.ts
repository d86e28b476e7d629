// What `JSON.stringify` would call to write a value, for the scrubber: a value's own answer for
// itself (`toJSON`) is what reaches the model, so it is what gets scrubbed.

const DATE_TO_JSON = Date.prototype.toJSON;
const DATE_TO_ISO_STRING = Date.prototype.toISOString;
const DATE_GET_TIME = Date.prototype.getTime;

const BUFFER_TO_JSON = Buffer.prototype.toJSON;

/** The `toJSON`s the scrubber gave objects: each answers with an already scrubbed result. */
const PINNED = new WeakSet<object>();

/**
 * Gives `target` an own `toJSON` answering `json` (already scrubbed), so it keeps its class and
 * writes only that; false when it takes no new property.
 */
export function pinToJSON(target: object, json: unknown): boolean {
  const toJSON = () => json;
  PINNED.add(toJSON);
  return Reflect.defineProperty(target, 'toJSON', {
    value: toJSON,
    writable: true,
    enumerable: false,
    configurable: true,
  });
}

/**
 * Whether `JSON.stringify` would call a `toJSON` of `value` that the scrubber must call for it:
 * any but a plain Date's or Buffer's, or one the scrubber gave it.
 */
export function serializesItself(value: object): boolean {
  return customToJSON(value) !== undefined;
}

/** The `toJSON` that `JSON.stringify` would call on `value`, unless `serializesItself` says not. */
export function customToJSON(value: object): ((key: string) => unknown) | undefined {
  if (!('toJSON' in value) || intrinsic(value)) return undefined;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  return typeof toJSON === 'function' && !PINNED.has(toJSON)
    ? (toJSON as (key: string) => unknown)
    : undefined;
}

/**
 * A real Date (its internal time slot) writing itself with the intrinsic `toJSON` and
 * `toISOString`, or a typed array with Buffer's (its bytes, which the scrubber does not read).
 */
function intrinsic(value: object): boolean {
  if (ArrayBuffer.isView(value)) return (value as { toJSON?: unknown }).toJSON === BUFFER_TO_JSON;
  if (!(value instanceof Date)) return false;
  try {
    Reflect.apply(DATE_GET_TIME, value, []);
  } catch {
    return false;
  }
  return value.toJSON === DATE_TO_JSON && value.toISOString === DATE_TO_ISO_STRING;
}

/** The primitive inside a String, Number or Boolean object, which `JSON.stringify` writes; else `value`. */
export function unboxed(value: object): unknown {
  if (value instanceof String) return String.prototype.toString.call(value);
  if (value instanceof Number) return Number.prototype.valueOf.call(value);
  if (value instanceof Boolean) return Boolean.prototype.valueOf.call(value);
  return value;
}
