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

/**
 * Why a value was refused. The path is built only on refusal: each level of the walk prepends its
 * segment while the problem unwinds, so the accepting path never concatenates strings.
 */
class SnapshotProblem extends Error {
  readonly segments: string[] = [];
  constructor(private readonly describe: (path: string) => string) {
    super('');
  }
  at(segment: string): this {
    this.segments.push(segment);
    return this;
  }
  text(): string {
    return this.describe(`$${this.segments.reverse().join('')}`);
  }
}

const problem = (describe: (path: string) => string) => new SnapshotProblem(describe);

const objectProto = Object.prototype;
const arrayProto = Array.prototype;
const { getOwnPropertyNames, getOwnPropertySymbols, getOwnPropertyDescriptor, getPrototypeOf, freeze } =
  Object;

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
  const state: State = { budget: limits.maxBytes, maxDepth: limits.maxDepth, ancestors: [] };
  try {
    return { ok: true, value: cloneObject(value, 0, state, reference) as JsonObject };
  } catch (error) {
    if (error instanceof SnapshotProblem) return { ok: false, problem: error.text() };
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

const overSize = () => problem(() => 'arguments exceed the size limit');

function cloneValue(value: unknown, depth: number, state: State, reference: unknown): unknown {
  switch (typeof value) {
    case 'string':
      state.budget -= value.length + 2;
      if (state.budget < 0) throw overSize();
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw problem((path) => `${path} is not a finite number`);
      state.budget -= 8;
      if (state.budget < 0) throw overSize();
      return value === 0 ? 0 : value;
    case 'boolean':
      state.budget -= 5;
      if (state.budget < 0) throw overSize();
      return value;
    case 'object':
      if (value === null) {
        state.budget -= 4;
        if (state.budget < 0) throw overSize();
        return null;
      }
      return cloneObject(value, depth, state, reference);
    default: {
      const kind = typeof value;
      throw problem((path) => `${path} is a ${kind}, which is not JSON data`);
    }
  }
}

function cloneObject(value: object, depth: number, state: State, reference: unknown): object {
  // Checked before touching anything: reading descriptors of a Proxy would run its traps.
  if (types.isProxy(value)) throw problem((path) => `${path} is a Proxy`);
  if (depth >= state.maxDepth) {
    const max = state.maxDepth;
    throw problem(() => `arguments are nested deeper than ${max}`);
  }
  const ancestors = state.ancestors;
  if (ancestors.includes(value)) throw problem((path) => `${path} is a cycle`);
  const proto = getPrototypeOf(value);
  ancestors.push(value);
  let out: object;
  if (Array.isArray(value)) {
    if (proto !== arrayProto) throw problem((path) => `${path} is not a plain array`);
    out = cloneArray(value, depth, state, reference);
  } else {
    if (proto !== objectProto && proto !== null) throw problem((path) => `${path} is not a plain object`);
    out = clonePlainObject(value, depth, state, reference);
  }
  // Only on success: a refusal abandons the whole walk, so the stack needs no unwinding then.
  ancestors.pop();
  return out;
}

function cloneArray(value: unknown[], depth: number, state: State, reference: unknown): unknown[] {
  const length = value.length;
  // Own string keys of a dense plain array are exactly its indices plus 'length'; no symbols.
  if (getOwnPropertyNames(value).length !== length + 1 || getOwnPropertySymbols(value).length !== 0)
    throw problem((path) => `${path} is a sparse array or has extra properties`);
  state.budget -= 2 + length;
  if (state.budget < 0) throw overSize();
  const ref = Array.isArray(reference) ? reference : undefined;
  const out = new Array<unknown>(length);
  for (let i = 0; i < length; i++) {
    const descriptor = getOwnPropertyDescriptor(value, i);
    if (descriptor === undefined) throw problem((path) => `${path} is a sparse array`);
    if (!('value' in descriptor)) throw problem((path) => `${path}[${i}] is an accessor`);
    try {
      out[i] = cloneValue(descriptor.value, depth + 1, state, ref?.[i]);
    } catch (error) {
      if (error instanceof SnapshotProblem) error.at(`[${i}]`);
      throw error;
    }
  }
  return freeze(out) as unknown[];
}

function clonePlainObject(
  value: object,
  depth: number,
  state: State,
  reference: unknown,
): Record<string, unknown> {
  if (getOwnPropertySymbols(value).length !== 0) throw problem((path) => `${path} has a symbol key`);
  const keys = getOwnPropertyNames(value);
  state.budget -= 2;
  if (state.budget < 0) throw overSize();
  const ref = isRecord(reference) ? reference : undefined;
  const out: Record<string, unknown> = {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    const descriptor = getOwnPropertyDescriptor(value, key)!;
    if (!('value' in descriptor)) throw problem((path) => `${path}.${key} is an accessor`);
    if (!descriptor.enumerable) throw problem((path) => `${path}.${key} is not enumerable`);
    const data: unknown = descriptor.value;
    // As in JSON, a property whose value is undefined is absent.
    if (data === undefined) continue;
    let child: unknown;
    // Strings, numbers and booleans inline (most arguments are flat); anything else recurses.
    switch (typeof data) {
      case 'string':
        state.budget -= key.length + data.length + 6;
        child = data;
        break;
      case 'number':
        if (!Number.isFinite(data)) throw problem((path) => `${path}.${key} is not a finite number`);
        state.budget -= key.length + 12;
        child = data === 0 ? 0 : data;
        break;
      case 'boolean':
        state.budget -= key.length + 9;
        child = data;
        break;
      default:
        state.budget -= key.length + 4;
        if (state.budget < 0) throw overSize();
        try {
          child = cloneValue(
            data,
            depth + 1,
            state,
            ref !== undefined && Object.hasOwn(ref, key) ? ref[key] : undefined,
          );
        } catch (error) {
          if (error instanceof SnapshotProblem) error.at(`.${key}`);
          throw error;
        }
    }
    if (state.budget < 0) throw overSize();
    if (key === '__proto__') {
      Object.defineProperty(out, key, { value: child, enumerable: true, writable: true, configurable: true });
    } else {
      out[key] = child;
    }
  }
  if (ref !== undefined) {
    for (const key of Object.keys(ref)) {
      if (!Object.hasOwn(out, key)) throw problem((path) => `${path}.${key} is not a known argument`);
    }
  }
  return freeze(out);
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
  const keys = Object.keys(frozen);
  // Same number of own string keys (of any kind) and every key of the snapshot present: the same
  // keys. Symbol keys are not data: the snapshot (which has none) is what runs either way.
  if (getOwnPropertyNames(value).length !== keys.length) return false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (!Object.hasOwn(value, key)) return false;
    const a: unknown = (value as Record<string, unknown>)[key];
    const b: unknown = (frozen as Record<string, unknown>)[key];
    if (a !== b && (typeof b !== 'object' || !sameData(a, b, depth + 1))) return false;
  }
  return true;
}
