import { types } from 'node:util';

const objectProto = Object.prototype;
const arrayProto = Array.prototype;
const { getPrototypeOf } = Object;

/**
 * True when `value` (a schema's output) holds exactly the same plain data as `frozen` (our
 * snapshot): same keys, same primitives, plain objects and arrays only. Then the snapshot itself
 * can be used and no second copy is needed. Anything unusual returns false, and the caller takes a
 * full snapshot instead.
 */
export function sameData(value: unknown, frozen: unknown, depth = 0): boolean {
  if (value === frozen) return true;
  if (typeof value !== 'object' || typeof frozen !== 'object' || value === null || frozen === null)
    return false;
  if (depth > 64 || types.isProxy(value)) return false;
  if (Array.isArray(frozen)) {
    if (!Array.isArray(value) || getPrototypeOf(value) !== arrayProto || value.length !== frozen.length)
      return false;
    for (let i = 0; i < frozen.length; i++) {
      const a: unknown = value[i];
      const b: unknown = frozen[i];
      if (a !== b && (typeof b !== 'object' || !sameData(a, b, depth + 1))) return false;
    }
    return true;
  }
  if (Array.isArray(value) || getPrototypeOf(value) !== objectProto) return false;
  // `for…in` over both (V8 walks a cached key list; no array is made): every key of the snapshot
  // is an own key of `value` with the same data, and `value` has no other enumerable key. A key
  // inherited from a polluted Object.prototype fails `hasOwn` and so answers false (a full
  // snapshot follows); a non-enumerable key of `value` is ignored, as the snapshot would drop it.
  let count = 0;
  for (const key in frozen) {
    if (!Object.hasOwn(value, key)) return false;
    const a: unknown = (value as Record<string, unknown>)[key];
    const b: unknown = (frozen as Record<string, unknown>)[key];
    if (a !== b && (typeof b !== 'object' || !sameData(a, b, depth + 1))) return false;
    count += 1;
  }
  for (const _ in value) count -= 1;
  return count === 0;
}
