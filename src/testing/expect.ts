import { AssertionError } from 'node:assert';
import { inspect, isDeepStrictEqual } from 'node:util';

// The assertions of the conformance suites, on node:assert's AssertionError, so the suites need no
// particular test runner: vitest, Jest and node:test all report these failures (src/testing/).

/** The matchers the conformance suites use, named as in vitest and Jest. */
export interface Matchers {
  /** `Object.is` equality. */
  toBe(expected: unknown): void;
  /** Deep equality of data; properties whose value is `undefined` count as absent. */
  toEqual(expected: unknown): void;
  /** Every property of `expected` is present and matches, recursively; extra properties are fine. */
  toMatchObject(expected: object): void;
  toBeUndefined(): void;
  /** An array or string containing `item`. */
  toContain(item: unknown): void;
  toHaveLength(length: number): void;
  /** For a function: calling it throws. */
  toThrow(): void;
}

/** `expect(value)`: the matchers, and for a promise `resolves` and `rejects`. */
export interface Expectation extends Matchers {
  readonly resolves: {
    toMatchObject(expected: object): Promise<void>;
    toEqual(expected: unknown): Promise<void>;
  };
  readonly rejects: { toThrow(): Promise<void> };
}

function fail(message: string, actual: unknown, expected: unknown, operator: string): never {
  throw new AssertionError({
    message: `${message}\n  actual:   ${inspect(actual, { depth: 6 })}\n  expected: ${inspect(expected, { depth: 6 })}`,
    actual,
    expected,
    operator,
  });
}

/** A copy without `undefined`-valued properties, so `{ a: undefined }` equals `{}`. */
function defined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(defined);
  if (typeof value !== 'object' || value === null) return value;
  // Only plain data is rewritten; a Date, Map or class instance is compared as it is.
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(value)) if (entry !== undefined) copy[key] = defined(entry);
  return copy;
}

function matches(actual: unknown, expected: unknown): boolean {
  if (typeof expected !== 'object' || expected === null) return Object.is(actual, expected);
  if (typeof actual !== 'object' || actual === null) return false;
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, index) => matches(actual[index], item))
    );
  return Object.entries(expected).every(
    ([key, item]) => Object.hasOwn(actual, key) && matches((actual as Record<string, unknown>)[key], item),
  );
}

function matchers(actual: unknown): Matchers {
  return {
    toBe(expected) {
      if (!Object.is(actual, expected)) fail('expected the same value', actual, expected, 'toBe');
    },
    toEqual(expected) {
      if (!isDeepStrictEqual(defined(actual), defined(expected)))
        fail('expected equal values', actual, expected, 'toEqual');
    },
    toMatchObject(expected) {
      if (!matches(actual, expected)) fail('expected a value matching', actual, expected, 'toMatchObject');
    },
    toBeUndefined() {
      if (actual !== undefined) fail('expected undefined', actual, undefined, 'toBeUndefined');
    },
    toContain(item) {
      const found =
        typeof actual === 'string'
          ? typeof item === 'string' && actual.includes(item)
          : Array.isArray(actual) && actual.includes(item);
      if (!found) fail('expected the value to contain the item', actual, item, 'toContain');
    },
    toHaveLength(length) {
      const size = (actual as { length?: unknown } | null | undefined)?.length;
      if (size !== length) fail(`expected length ${length}`, actual, length, 'toHaveLength');
    },
    toThrow() {
      if (typeof actual !== 'function') fail('expected a function', actual, 'a function', 'toThrow');
      try {
        (actual as () => unknown)();
      } catch {
        return;
      }
      fail('expected the function to throw', 'returned', 'a throw', 'toThrow');
    },
  };
}

/** Assertions for the conformance suites, runner-independent. */
export function expect(actual: unknown): Expectation {
  return {
    ...matchers(actual),
    resolves: {
      async toMatchObject(expected) {
        matchers(await actual).toMatchObject(expected);
      },
      async toEqual(expected) {
        matchers(await actual).toEqual(expected);
      },
    },
    rejects: {
      async toThrow() {
        try {
          await actual;
        } catch {
          return;
        }
        fail('expected the promise to reject', 'resolved', 'a rejection', 'rejects');
      },
    },
  };
}
