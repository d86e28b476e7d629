import { types } from 'node:util';

/** Far above any real decision (rule ids, a few obligations and limits), far below a stall. */
const MAX_VALUES = 100_000;
const MAX_DEPTH = 64;

interface Walk {
  /** Values (and keys) that may still be copied. */
  left: number;
  ancestors: object[];
  /** Where the walk is, below the decision: `['limits', 0, 'limits', 'budget', 'cost']`. */
  path: (string | number)[];
}

/**
 * A frozen deep copy of an engine's decision, read without running any code it carries: no
 * getter, Proxy trap or `toJSON` ever runs (descriptors are read; a Proxy is refused before it is
 * touched). Throws a TypeError naming the first value that is not plain data: an accessor, a
 * Proxy, a class instance, a symbol key, a sparse array, a cycle, a non-finite number, a BigInt,
 * `undefined` in an array, or a function anywhere but a budget's `cost` (the one function a
 * decision may carry, as `LimitRequirement` declares; it is kept, never called here). As in JSON,
 * properties set to `undefined` and non-enumerable ones are left out.
 */
export function copyDecisionData(value: object): Readonly<Record<string, unknown>> {
  const walk: Walk = { left: MAX_VALUES, ancestors: [], path: [] };
  return copyObject(value, walk) as Readonly<Record<string, unknown>>;
}

function copyValue(value: unknown, walk: Walk): unknown {
  if (--walk.left < 0) refuse(walk, 'has too many values');
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) refuse(walk, 'is not a finite number');
      return value === 0 ? 0 : value;
    case 'object':
      return value === null ? null : copyObject(value, walk);
    case 'function':
      if (isBudgetCost(walk.path)) return value;
      return refuse(walk, 'is a function, which is not data');
    default:
      return refuse(walk, `is a ${typeof value}, which is not data`);
  }
}

function copyObject(value: object, walk: Walk): object {
  // Before anything else: even reading the prototype of a Proxy runs a trap.
  if (types.isProxy(value)) refuse(walk, 'is a Proxy');
  if (walk.ancestors.length >= MAX_DEPTH) refuse(walk, `is nested deeper than ${MAX_DEPTH}`);
  if (walk.ancestors.includes(value)) refuse(walk, 'is a cycle');
  if (Object.getOwnPropertySymbols(value).length !== 0) refuse(walk, 'has a symbol key');
  const proto = Object.getPrototypeOf(value);
  walk.ancestors.push(value);
  let out: object;
  if (Array.isArray(value)) {
    if (proto !== Array.prototype) refuse(walk, 'is not a plain array');
    const length = value.length;
    if (length > walk.left) refuse(walk, 'has too many values');
    const list = new Array<unknown>(length);
    for (let i = 0; i < length; i++) {
      walk.path.push(i);
      const descriptor = Object.getOwnPropertyDescriptor(value, i);
      if (descriptor === undefined) refuse(walk, 'is missing (a sparse array)');
      if (!('value' in descriptor)) refuse(walk, 'is an accessor');
      if (descriptor.value === undefined) refuse(walk, 'is undefined');
      list[i] = copyValue(descriptor.value, walk);
      walk.path.pop();
    }
    out = list;
  } else {
    if (proto !== Object.prototype && proto !== null) refuse(walk, 'is not a plain object');
    const keys = Object.keys(value);
    if (keys.length > walk.left) refuse(walk, 'has too many values');
    const record: Record<string, unknown> = {};
    for (const key of keys) {
      walk.path.push(key);
      const descriptor = Object.getOwnPropertyDescriptor(value, key);
      if (descriptor !== undefined) {
        if (!('value' in descriptor)) refuse(walk, 'is an accessor');
        if (descriptor.value !== undefined) {
          const copy = copyValue(descriptor.value, walk);
          // A `__proto__` key stays an own data property.
          if (key === '__proto__')
            Object.defineProperty(record, key, {
              value: copy,
              enumerable: true,
              writable: true,
              configurable: true,
            });
          else record[key] = copy;
        }
      }
      walk.path.pop();
    }
    out = record;
  }
  walk.ancestors.pop();
  return Object.freeze(out);
}

function isBudgetCost(path: readonly (string | number)[]): boolean {
  return (
    path.length === 5 &&
    path[0] === 'limits' &&
    typeof path[1] === 'number' &&
    path[2] === 'limits' &&
    path[3] === 'budget' &&
    path[4] === 'cost'
  );
}

function refuse(walk: Walk, problem: string): never {
  const at = walk.path.map((part) => (typeof part === 'number' ? `[${part}]` : `.${part}`)).join('');
  throw new TypeError(`decision${at} ${problem}`);
}
