import { types } from 'node:util';
import type { JsonObject } from '../types.ts';

/** Limits applied while taking a snapshot. */
export interface SnapshotLimits {
  /** Maximum serialized size (UTF-16 code units of the JSON text, a close bound on bytes for ASCII). */
  maxBytes: number;
  /** Maximum nesting depth of objects and arrays. */
  maxDepth: number;
}

/** Result of `snapshot`: a frozen deep copy, or why the value is not acceptable JSON data. */
export type SnapshotResult<T> = { ok: true; value: T } | { ok: false; problem: string };

class SnapshotProblem extends Error {}

const objectProto = Object.prototype;
const arrayProto = Array.prototype;

/**
 * Deep-clones and freezes plain JSON data without running any code the value carries: no getter,
 * Proxy trap or `toJSON` is ever invoked (descriptors are read, accessors are refused). Functions,
 * symbols, class instances, BigInt, non-finite numbers, sparse arrays, cycles and values over the
 * size or depth caps are refused. `-0` becomes `0`; properties set to `undefined` are dropped, as JSON does. A `__proto__` key stays an own data property.
 *
 * When `reference` is given (the pre-validation snapshot), any object key present there but missing
 * from `value` is refused: a schema that silently strips unknown keys must not make them vanish.
 */
export function snapshot(
  value: unknown,
  limits: SnapshotLimits,
  reference?: unknown,
): SnapshotResult<JsonObject> {
  if (value === undefined) value = {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, problem: 'arguments must be a JSON object' };
  }
  const state = { budget: limits.maxBytes, maxDepth: limits.maxDepth, ancestors: [] as object[] };
  try {
    return { ok: true, value: cloneValue(value, 0, state, '$', reference) as JsonObject };
  } catch (error) {
    if (error instanceof SnapshotProblem) return { ok: false, problem: error.message };
    // A RangeError (stack) or anything unexpected is still a refusal, never a crash.
    return {
      ok: false,
      problem: `arguments could not be copied: ${(error as Error)?.message ?? String(error)}`,
    };
  }
}

interface State {
  budget: number;
  maxDepth: number;
  ancestors: object[];
}

function spend(state: State, amount: number): void {
  state.budget -= amount;
  if (state.budget < 0) throw new SnapshotProblem('arguments exceed the size limit');
}

function cloneValue(value: unknown, depth: number, state: State, path: string, reference: unknown): unknown {
  switch (typeof value) {
    case 'string':
      spend(state, value.length + 2);
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new SnapshotProblem(`${path} is not a finite number`);
      spend(state, 8);
      return value === 0 ? 0 : value;
    case 'boolean':
      spend(state, 5);
      return value;
    case 'object':
      if (value === null) {
        spend(state, 4);
        return null;
      }
      return cloneObject(value, depth, state, path, reference);
    default:
      throw new SnapshotProblem(`${path} is a ${typeof value}, which is not JSON data`);
  }
}

function cloneObject(value: object, depth: number, state: State, path: string, reference: unknown): object {
  // Checked before touching anything: reading descriptors of a Proxy would run its traps.
  if (types.isProxy(value)) throw new SnapshotProblem(`${path} is a Proxy`);
  if (depth >= state.maxDepth)
    throw new SnapshotProblem(`arguments are nested deeper than ${state.maxDepth}`);
  if (state.ancestors.includes(value)) throw new SnapshotProblem(`${path} is a cycle`);
  const proto = Object.getPrototypeOf(value);
  state.ancestors.push(value);
  try {
    if (Array.isArray(value)) {
      if (proto !== arrayProto) throw new SnapshotProblem(`${path} is not a plain array`);
      return cloneArray(value, depth, state, path, reference);
    }
    if (proto !== objectProto && proto !== null) throw new SnapshotProblem(`${path} is not a plain object`);
    return clonePlainObject(value, depth, state, path, reference);
  } finally {
    state.ancestors.pop();
  }
}

function cloneArray(
  value: unknown[],
  depth: number,
  state: State,
  path: string,
  reference: unknown,
): unknown[] {
  const keys = Reflect.ownKeys(value);
  const length = value.length;
  // Own keys of a dense plain array are exactly its indices plus 'length'.
  if (keys.length !== length + 1)
    throw new SnapshotProblem(`${path} is a sparse array or has extra properties`);
  spend(state, 2 + length);
  const ref = Array.isArray(reference) ? reference : undefined;
  const out = new Array<unknown>(length);
  for (let i = 0; i < length; i++) {
    const descriptor = Object.getOwnPropertyDescriptor(value, i);
    if (descriptor === undefined) throw new SnapshotProblem(`${path} is a sparse array`);
    if (!('value' in descriptor)) throw new SnapshotProblem(`${path}[${i}] is an accessor`);
    out[i] = cloneValue(descriptor.value, depth + 1, state, `${path}[${i}]`, ref?.[i]);
  }
  return Object.freeze(out) as unknown[];
}

function clonePlainObject(
  value: object,
  depth: number,
  state: State,
  path: string,
  reference: unknown,
): Record<string, unknown> {
  const keys = Reflect.ownKeys(value);
  spend(state, 2);
  const out: Record<string, unknown> = {};
  for (const key of keys) {
    if (typeof key === 'symbol') throw new SnapshotProblem(`${path} has a symbol key`);
    const descriptor = Object.getOwnPropertyDescriptor(value, key)!;
    if (!('value' in descriptor)) throw new SnapshotProblem(`${path}.${key} is an accessor`);
    if (!descriptor.enumerable) throw new SnapshotProblem(`${path}.${key} is not enumerable`);
    // As in JSON, a property whose value is undefined is absent.
    if (descriptor.value === undefined) continue;
    spend(state, key.length + 4);
    const refChild = isRecord(reference)
      ? Object.hasOwn(reference, key)
        ? reference[key]
        : undefined
      : undefined;
    const child = cloneValue(descriptor.value, depth + 1, state, `${path}.${key}`, refChild);
    if (key === '__proto__') {
      Object.defineProperty(out, key, { value: child, enumerable: true, writable: true, configurable: true });
    } else {
      out[key] = child;
    }
  }
  if (isRecord(reference)) {
    for (const key of Object.keys(reference)) {
      if (!Object.hasOwn(out, key)) throw new SnapshotProblem(`${path}.${key} is not a known argument`);
    }
  }
  return Object.freeze(out);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

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
  if (depth > 64) return false;
  if (Array.isArray(frozen)) {
    if (
      !Array.isArray(value) ||
      Object.getPrototypeOf(value) !== arrayProto ||
      value.length !== frozen.length
    )
      return false;
    for (let i = 0; i < frozen.length; i++) if (!sameData(value[i], frozen[i], depth + 1)) return false;
    return true;
  }
  if (Array.isArray(value) || Object.getPrototypeOf(value) !== objectProto || types.isProxy(value))
    return false;
  const keys = Object.keys(frozen);
  const valueKeys = Object.keys(value);
  if (keys.length !== valueKeys.length) return false;
  for (const key of keys) {
    if (!Object.hasOwn(value, key)) return false;
    if (
      !sameData((value as Record<string, unknown>)[key], (frozen as Record<string, unknown>)[key], depth + 1)
    )
      return false;
  }
  return Reflect.ownKeys(value).length === keys.length;
}
