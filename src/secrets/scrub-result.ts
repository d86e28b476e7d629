import type { SecretScrubber } from './scrubber.ts';
import { pinToJSON } from './serialized.ts';

// A tool's result and what it throws, scrubbed of handed-out values (used by the guard's execute
// step and the audit's error view; kept apart from the scrubbing audit so src/audit can import it
// without a cycle).

/** How deep `scrubResult` follows objects that are not plain data. */
const MAX_HOST_DEPTH = 6;

/**
 * A tool's result scrubbed of handed-out values. Plain data (strings, arrays, plain objects,
 * errors, and bytes, RegExps, Maps and Sets) goes through the scrubber, which copies what it
 * changes and puts in place of a plain object with a `toJSON` the scrubbed result of calling it
 * once. A framework's own object (a LangChain `ToolMessage`, an adapter's wrapper around an MCP
 * result, any class instance), at the top or anywhere inside that data (a Map's keys and values,
 * a Set, an error's `cause`, own properties and `errors`), cannot be copied without losing its
 * class, so its own enumerable properties are scrubbed in place, a few levels deep: the object was
 * made for this call. A property that cannot be written keeps its value. Such an object with a
 * `toJSON` keeps its class and gets an own `toJSON` giving the scrubbed result of one call to its
 * own (so a second call cannot answer otherwise); one that takes no new property is replaced by
 * that result.
 */
export function scrubResult(value: unknown, scrubber: SecretScrubber, depth = 0, key = ''): unknown {
  if (typeof value !== 'object' || value === null) return scrubber.value(value);
  if (isContainer(value)) {
    // A framework's object inside is scrubbed in place whether or not the data around it has
    // anything to scrub (the scrubber copies data, and keeps such objects as they are).
    objectsIn(value, scrubber, depth, new Set());
    // An error is scrubbed in place; a Map or a Set copied when something occurs in it.
    if (!isData(value)) return scrubber.value(value);
    // Nothing to scrub and no `toJSON` to answer for (the common case): no copy.
    if (!scrubber.test(value)) return value;
    return scrubbedAt(value, key, scrubber);
  }
  // Bytes or a RegExp: the scrubber copies it when something occurs in it.
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof RegExp)
    return scrubber.value(value);
  if (depth >= MAX_HOST_DEPTH || typeof (value as { then?: unknown }).then === 'function') return value;
  const record = value as Record<string, unknown>;
  for (const field of Object.keys(record)) {
    let current: unknown;
    try {
      current = record[field];
    } catch {
      continue;
    }
    const next = scrubResult(current, scrubber, depth + 1, field);
    if (next === current) continue;
    try {
      record[field] = next;
    } catch {
      // A frozen or accessor-only property keeps its value.
    }
  }
  // The same object back means it has no `toJSON` of its own to answer for it.
  const json = scrubbedAt(value, key, scrubber);
  if (json === value) return value;
  return pinToJSON(value, json) ? value : json;
}

/** Plain data, or what the scrubber walks into: a Map, a Set, an error. */
function isContainer(value: object): boolean {
  return isData(value) || value instanceof Map || value instanceof Set || value instanceof Error;
}

function isData(value: object): boolean {
  if (Array.isArray(value)) return true;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Scrubs in place the objects that are not data inside a container, through nested containers:
 * what the scrubber reads of each (a Map's keys and values, a Set's values, an error's `cause`,
 * own properties and `errors`, the properties of an array or a plain object). Data properties
 * only: a getter is left to the scrubber, which calls it once.
 */
function objectsIn(container: object, scrubber: SecretScrubber, depth: number, seen: Set<object>): void {
  if (seen.has(container)) return;
  seen.add(container);
  const visit = (child: unknown, key: string) => {
    if (typeof child !== 'object' || child === null) return;
    if (isContainer(child)) objectsIn(child, scrubber, depth, seen);
    else scrubResult(child, scrubber, depth + 1, key);
  };
  if (container instanceof Map) {
    for (const [key, item] of container) {
      visit(key, '');
      visit(item, '');
    }
    return;
  }
  if (container instanceof Set) {
    for (const item of container) visit(item, '');
    return;
  }
  const fields = Object.keys(container);
  if (container instanceof Error) {
    // Own but not enumerable when the constructor set them.
    if (!fields.includes('cause')) fields.push('cause');
    if (container instanceof AggregateError && !fields.includes('errors')) fields.push('errors');
  }
  for (const field of fields) {
    const descriptor = Reflect.getOwnPropertyDescriptor(container, field);
    if (descriptor !== undefined && 'value' in descriptor) visit(descriptor.value, field);
  }
}

/** `scrubber.value(value)`, with `key` as the key its `toJSON` is called with. */
function scrubbedAt(value: object, key: string, scrubber: SecretScrubber): unknown {
  if (key === '') return scrubber.value(value);
  const holder = { [key]: value };
  return scrubber.value(holder)[key];
}

/**
 * What a tool threw, scrubbed of handed-out values, all of it, as `scrubResult` scrubs a result:
 * a string, an error in place (its name, message, stack, own properties, `cause` chain and
 * `errors`, the class instances in them too; a frozen one replaced by a plain Error), any other
 * value. Throws what reading it throws (a getter, a Proxy trap): the caller withholds such an
 * error.
 */
export function scrubThrown(thrown: unknown, scrubber: SecretScrubber): unknown {
  return scrubResult(thrown, scrubber);
}
