/**
 * JSON data read now, to be serialized later: a value's every object is listed once (its own
 * enumerable keys and their values, each property read once, as `canonicalJson` reads it), so
 * what is serialized later is the value as it was when captured, whatever happens to the objects
 * in between. Capturing throws exactly where `canonicalJson` would (non-finite numbers,
 * `undefined`, functions, symbols, bigints), so serializing a capture never does.
 * `CanonicalWriter.value` writes captures as the data they hold.
 */
export class CapturedObject {
  constructor(
    readonly keys: readonly string[],
    readonly values: readonly unknown[],
  ) {}
}

/** An array read by `captureJson`: its items, captured. */
export class CapturedArray {
  constructor(readonly items: readonly unknown[]) {}
}

const EMPTY_OBJECT = new CapturedObject([], []);

/** Reads `value` once, now; scalars stay as they are (they cannot change), objects become captures. */
export function captureJson(value: unknown): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return value;
    case 'object': {
      if (value === null) return null;
      if (Array.isArray(value)) {
        const items: unknown[] = new Array(value.length);
        for (let i = 0; i < items.length; i++) items[i] = captureJson(value[i]);
        return new CapturedArray(items);
      }
      const keys = Object.keys(value);
      if (keys.length === 0) return EMPTY_OBJECT;
      const values = Object.values(value);
      if (values.length !== keys.length) throw new TypeError('canonicalJson: the object changed while read');
      for (let i = 0; i < values.length; i++) values[i] = captureJson(values[i]);
      return new CapturedObject(keys, values);
    }
    default:
      throw new TypeError(`canonicalJson: ${typeof value} is not JSON data`);
  }
}
