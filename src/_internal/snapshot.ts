import { types } from 'node:util';
import type { JsonObject } from '../types.ts';
import { jsonNumberBytes, jsonStringBytes } from './json-bytes.ts';

export { sameData } from './same-data.ts';

/** Limits applied while taking a snapshot. */
export interface SnapshotLimits {
  /**
   * Maximum size: the UTF-8 bytes of the value's JSON text as the canonical writer writes it
   * (src/_internal/json-bytes.ts). Properties set to `undefined` are left out of the copy but
   * still count (their key), since skipping them is work too.
   */
  maxBytes: number;
  /** Maximum nesting depth of objects and arrays. */
  maxDepth: number;
}

/** Result of `snapshot`: a frozen deep copy, or why the value is not acceptable JSON data. */
export type SnapshotResult<T> =
  | { ok: true; value: T }
  | {
      ok: false;
      problem: string;
      /**
       * Where, when the problem is at one value: its path below the root (`.items[2].sku`, `''` for
       * the root) and what is wrong with it (`is an accessor`), for a failed condition.
       */
      at?: { readonly path: string; readonly predicate: string };
    };

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
  /** The problem as a sentence, and where it is when the sentence is about one value. */
  result(): { ok: false; problem: string; at?: { path: string; predicate: string } } {
    const path = this.segments.reverse().join('');
    const text = this.describe(`$${path}`);
    if (!text.startsWith(`$${path}`)) return { ok: false, problem: text };
    // The sentence names the value (`$.items[0].sku is an accessor`, a key appended to the path by
    // the level that found it), then says what is wrong with it.
    const rest = text.slice(path.length + 1);
    const verb = rest.search(/ (?:is|has) /);
    if (verb < 0) return { ok: false, problem: text };
    return {
      ok: false,
      problem: text,
      at: { path: path + rest.slice(0, verb), predicate: rest.slice(verb + 1) },
    };
  }
}

const problem = (describe: (path: string) => string) => new SnapshotProblem(describe);

const objectProto = Object.prototype;
const arrayProto = Array.prototype;
const { keys: objectKeys, getOwnPropertySymbols, getOwnPropertyDescriptor, getPrototypeOf, freeze } = Object;

/**
 * Deep-clones and freezes plain JSON data without running any code the value carries: no getter,
 * Proxy trap or `toJSON` is ever invoked (descriptors are read, accessors are refused). Functions,
 * symbols, class instances, BigInt, non-finite numbers, sparse arrays, cycles and values over the
 * size or depth caps are refused. `-0` becomes `0`. As in JSON, properties set to `undefined` and
 * non-enumerable properties are left out, and an array is its elements (other properties of an
 * array are not copied). A `__proto__` key stays an own data property.
 *
 * The size cap bounds the time spent, not only the copy: the walk charges every value, key and
 * separator as it goes and stops as soon as the budget is spent, and checks an array's length, a
 * string's length and an object's number of keys against what is left before it reads any of
 * them. The one step whose cost follows the input rather than the cap is listing an object's own
 * keys (one native call per object; V8 cannot list them lazily).
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
  // First with cheap upper bounds on the size of strings and fractions; only a value whose
  // estimate passes the cap is walked again, counting exactly.
  return (
    walk(value, limits, reference, false) ??
    (walk(value, limits, reference, true) as SnapshotResult<JsonObject>)
  );
}

/** One walk over the value; `undefined` when the estimate (`exact: false`) spent the budget. */
function walk(
  value: object,
  limits: SnapshotLimits,
  reference: unknown,
  exact: boolean,
): SnapshotResult<JsonObject> | undefined {
  const state: State = {
    budget: limits.maxBytes,
    maxDepth: limits.maxDepth,
    ancestors: [],
    exact,
    refundable: 0,
  };
  try {
    return { ok: true, value: cloneObject(value, 0, state, reference) as JsonObject };
  } catch (error) {
    if (error === ESTIMATE_SPENT) return undefined;
    if (error instanceof SnapshotProblem) return error.result();
    // A RangeError (stack) or anything unexpected is still a refusal, never a crash.
    return {
      ok: false,
      problem: `arguments could not be copied: ${(error as Error)?.message ?? String(error)}`,
    };
  }
}

interface State {
  /** Bytes left; the walk stops as soon as it goes below zero. */
  budget: number;
  maxDepth: number;
  ancestors: object[];
  /**
   * Whether sizes are exact. The first walk charges strings six bytes a code unit (the most JSON
   * takes) and fractions 25 bytes (the longest number), which costs nothing to compute; a value
   * that passes the cap on those bounds passes it on its exact size.
   */
  exact: boolean;
  /** How much of what was charged so far may be estimate (what exact sizes could give back). */
  refundable: number;
}

/** Thrown when the estimate spent the budget: the walk is done again, exactly. */
const ESTIMATE_SPENT: Error = new Error('estimate spent');
/** The longest JSON form of a finite number (`-0.0000012345678901234567`); the shortest fraction is 3 (`0.5`). */
const MAX_NUMBER_BYTES = 25;
const MIN_FRACTION_BYTES = 3;

const overSize = () => problem(() => 'arguments exceed the size limit');

/** Charges `bytes` to the budget; throws as soon as it is spent. */
function charge(state: State, bytes: number): void {
  state.budget -= bytes;
  if (state.budget < 0) spent(state, -state.budget);
}

/**
 * The budget is `excess` bytes short. Over the cap for sure when counting exactly, or when even
 * the exact sizes of everything estimated so far could not give back that much; else the walk is
 * done again, exactly.
 */
function spent(state: State, excess: number): never {
  throw state.exact || excess > state.refundable ? overSize() : ESTIMATE_SPENT;
}

/** The size of a string literal: its bound (six bytes a code unit) while estimating, else exact. */
function stringBytes(state: State, text: string): number {
  if (state.exact) return jsonStringBytes(text, state.budget);
  // At least one byte a code unit, so at most five of the six charged may come back.
  state.refundable += text.length * 5;
  return text.length * 6 + 2;
}

/** The size of a number: exact for integers (a few comparisons), bounded for fractions while estimating. */
function numberBytes(state: State, value: number): number {
  if (state.exact || Number.isInteger(value)) return jsonNumberBytes(value);
  state.refundable += MAX_NUMBER_BYTES - MIN_FRACTION_BYTES;
  return MAX_NUMBER_BYTES;
}

function cloneValue(value: unknown, depth: number, state: State, reference: unknown): unknown {
  switch (typeof value) {
    case 'string':
      charge(state, stringBytes(state, value));
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw problem((path) => `${path} is not a finite number`);
      charge(state, numberBytes(state, value));
      return value === 0 ? 0 : value;
    case 'boolean':
      charge(state, value ? 4 : 5);
      return value;
    case 'object':
      if (value === null) {
        charge(state, 4);
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
  // The prototype is checked before any key is listed: a typed array, a Map or a class instance
  // is refused without enumerating what it holds.
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
  // Brackets, commas and at least one byte per element, checked on the length alone: an array
  // too long for what is left (`new Array(1e9)`, three million numbers) is refused before any
  // element is read. Its keys are never listed (that would make a string of every index), so
  // other properties of an array are not seen, as in JSON; symbol keys are (a cheap look).
  if (getOwnPropertySymbols(value).length !== 0) throw problem((path) => `${path} has a symbol key`);
  charge(state, length === 0 ? 2 : length + 1);
  if (length > state.budget) spent(state, length - state.budget);
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
  // Enumerable own string keys, as JSON.stringify takes them (non-enumerable ones are not data).
  // The one listing whose cost follows the input; `Object.keys` is the cheapest V8 has (half of
  // `getOwnPropertyNames` on a large object).
  const keys = objectKeys(value);
  const count = keys.length;
  // Braces, and at least three bytes per property (a key's quotes and its colon), checked
  // before any property is read.
  charge(state, 2);
  if (count * 3 > state.budget) spent(state, count * 3 - state.budget);
  const ref = isRecord(reference) ? reference : undefined;
  const out: Record<string, unknown> = {};
  let kept = 0;
  for (let i = 0; i < count; i++) {
    const key = keys[i]!;
    // The key, its colon, and the comma before it (all but the first kept property).
    charge(state, stringBytes(state, key) + (kept === 0 ? 1 : 2));
    const descriptor = getOwnPropertyDescriptor(value, key)!;
    if (!('value' in descriptor)) throw problem((path) => `${path}.${key} is an accessor`);
    const data: unknown = descriptor.value;
    // As in JSON, a property whose value is undefined is absent (its key was still charged).
    if (data === undefined) continue;
    kept += 1;
    let child: unknown;
    // Strings, numbers and booleans inline (most arguments are flat); anything else recurses.
    switch (typeof data) {
      case 'string':
        charge(state, stringBytes(state, data));
        child = data;
        break;
      case 'number':
        if (!Number.isFinite(data)) throw problem((path) => `${path}.${key} is not a finite number`);
        charge(state, numberBytes(state, data));
        child = data === 0 ? 0 : data;
        break;
      case 'boolean':
        charge(state, data ? 4 : 5);
        child = data;
        break;
      default:
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
