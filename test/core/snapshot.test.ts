import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/_internal/canonical.ts';
import { sameData, snapshot } from '../../src/_internal/snapshot.ts';

const limits = { maxBytes: 1_048_576, maxDepth: 64 };

function refused(value: unknown, fragment: string | RegExp = /./) {
  const result = snapshot(value, limits);
  expect(result.ok).toBe(false);
  if (!result.ok) expect(result.problem).toMatch(fragment);
}

describe('snapshot', () => {
  it('deep-copies and deep-freezes plain JSON data', () => {
    const input = { a: 1, b: { c: [1, { d: 'x' }] } };
    const result = snapshot(input, limits);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value).toEqual(input);
    expect(result.value).not.toBe(input);
    expect(Object.isFrozen(result.value)).toBe(true);
    const nested = result.value.b as { c: [number, { d: string }] };
    expect(Object.isFrozen(nested)).toBe(true);
    expect(Object.isFrozen(nested.c)).toBe(true);
    expect(Object.isFrozen(nested.c[1])).toBe(true);
    input.b.c.push(2);
    expect(nested.c).toHaveLength(2);
  });

  it('treats undefined arguments as an empty object', () => {
    expect(snapshot(undefined, limits)).toEqual({ ok: true, value: {} });
  });

  it('refuses non-object arguments', () => {
    for (const value of [null, 1, 'x', true, [1]]) refused(value, 'must be a JSON object');
  });

  it('refuses functions, symbols, BigInt and class instances', () => {
    refused({ f: () => 1 }, 'function');
    refused({ s: Symbol('x') }, 'symbol');
    refused({ [Symbol('k')]: 1 }, 'symbol key');
    refused({ n: 10n }, 'bigint');
    refused({ d: new Date() }, 'not a plain object');
    refused({ m: new Map() }, 'not a plain object');
    refused({ u: new Uint8Array(2) }, 'not a plain object');
    refused({ s: new String('x') }, 'not a plain object');
    class Args {
      a = 1;
    }
    refused(new Args(), 'not a plain object');
  });

  it('refuses non-finite numbers and normalizes -0', () => {
    refused({ n: Number.NaN }, 'finite');
    refused({ n: Number.POSITIVE_INFINITY }, 'finite');
    const result = snapshot({ n: -0 }, limits);
    expect(result.ok && Object.is(result.value.n, 0)).toBe(true);
  });

  it('never invokes a getter, and refuses accessors', () => {
    let reads = 0;
    const value = {
      get amount() {
        reads += 1;
        return reads === 1 ? 1 : 1_000_000;
      },
    };
    refused(value, 'accessor');
    expect(reads).toBe(0);
  });

  it('never runs Proxy traps', () => {
    let traps = 0;
    const handler: ProxyHandler<object> = new Proxy(
      {},
      {
        get() {
          traps += 1;
          return undefined;
        },
      },
    );
    refused(new Proxy({ a: 1 }, handler), 'Proxy');
    refused({ nested: new Proxy([1], handler) }, 'Proxy');
    expect(traps).toBe(0);
  });

  it('does not call toJSON', () => {
    let called = false;
    refused(
      {
        toJSON() {
          called = true;
          return {};
        },
      },
      'function',
    );
    expect(called).toBe(false);
  });

  it('refuses cycles and keeps shared (acyclic) references', () => {
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    refused(cyclic, 'cycle');
    const shared = { x: 1 };
    expect(snapshot({ a: shared, b: shared }, limits).ok).toBe(true);
  });

  it('refuses sparse arrays and symbol keys; other properties of an array are not data (as in JSON)', () => {
    // biome-ignore lint/suspicious/noSparseArray: a sparse array is the point of this case
    refused({ a: [1, , 3] }, 'sparse');
    refused({ a: new Array(3) }, 'sparse');
    const symbol = [1, 2] as unknown as Record<symbol, unknown>;
    symbol[Symbol('k')] = 1;
    refused({ a: symbol }, 'symbol key');
    const extra = [1, 2] as unknown as Record<string, unknown>;
    extra.extra = 1;
    const result = snapshot({ a: extra }, limits);
    expect(result.ok && result.value).toEqual({ a: [1, 2] });
    expect(result.ok && Object.hasOwn(result.value.a as object, 'extra')).toBe(false);
  });

  it('leaves out non-enumerable properties, as JSON does', () => {
    const value = { shown: 1 };
    Object.defineProperty(value, 'hidden', { value: 1, enumerable: false });
    const result = snapshot(value, limits);
    expect(result.ok && result.value).toEqual({ shown: 1 });
    expect(result.ok && Object.hasOwn(result.value, 'hidden')).toBe(false);
  });

  it('keeps __proto__ as an own data property without touching prototypes', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const result = snapshot(input, limits);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(Object.getPrototypeOf(result.value)).toBe(Object.prototype);
    expect(Object.hasOwn(result.value, '__proto__')).toBe(true);
    expect((result.value as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(canonicalJson(result.value)).toBe('{"__proto__":{"polluted":true},"a":1}');
  });

  it('accepts null-prototype objects as plain data', () => {
    const value = Object.assign(Object.create(null) as object, { a: 1 });
    const result = snapshot(value, limits);
    expect(result.ok && Object.getPrototypeOf(result.value) === Object.prototype).toBe(true);
  });

  it('drops properties set to undefined, as JSON does', () => {
    expect(snapshot({ a: undefined, b: 1 }, limits)).toEqual({ ok: true, value: { b: 1 } });
  });

  it('enforces the size cap without building the whole copy (50 MB string)', () => {
    refused({ big: 'x'.repeat(50 * 1024 * 1024) }, 'size limit');
    refused({ many: Array.from({ length: 200_000 }, () => 'abcdef') }, 'size limit');
  });

  it('enforces the depth cap without overflowing the stack (10,000 deep)', () => {
    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 10_000; i++) {
      const next = {};
      deep.n = next;
      deep = next;
    }
    refused(root, 'nested deeper than 64');
    let array: unknown[] = [];
    const top = { a: array };
    for (let i = 0; i < 10_000; i++) {
      const next: unknown[] = [];
      array.push(next);
      array = next;
    }
    refused(top, 'nested deeper');
  });

  it('refuses keys that a schema dropped (reference check)', () => {
    const reference = { a: 1, nested: { keep: 1, extra: 2 } };
    const result = snapshot({ a: 1, nested: { keep: 1 } }, limits, reference);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.problem).toContain('nested.extra is not a known argument');
  });

  it('property: any JSON object round-trips exactly and is frozen', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (value) => {
        const result = snapshot(value, limits);
        if (!result.ok) return result.problem.includes('size') || result.problem.includes('deeper');
        // JSON.parse(JSON.stringify(x)) is the reference for plain data (it also maps -0 to 0).
        expect(result.value).toEqual(JSON.parse(JSON.stringify(value)));
        expect(Object.isFrozen(result.value)).toBe(true);
        return true;
      }),
      { numRuns: 500 },
    );
  });

  it('property: arbitrary values never throw out of snapshot', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withBigInt: true,
          withMap: true,
          withSet: true,
          withTypedArray: true,
          withDate: true,
          withNullPrototype: true,
          withSparseArray: true,
          withBoxedValues: true,
        }),
        (value) => {
          const result = snapshot(value, limits);
          expect(typeof result.ok).toBe('boolean');
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('sameData (a schema output against the snapshot it validated)', () => {
  const frozen = (value: unknown) => {
    const result = snapshot(value, limits);
    if (!result.ok) throw new Error(result.problem);
    return result.value;
  };

  it('holds for equal plain data, and fails on any key or value that differs', () => {
    const given = frozen({ a: 1, b: { c: [1, { d: 'x' }] }, e: null });
    expect(sameData({ a: 1, b: { c: [1, { d: 'x' }] }, e: null }, given)).toBe(true);
    expect(sameData({ b: { c: [1, { d: 'x' }] }, e: null, a: 1 }, given)).toBe(true);
    expect(sameData({ a: 1, b: { c: [1, { d: 'x' }] } }, given)).toBe(false);
    expect(sameData({ a: 1, b: { c: [1, { d: 'x' }] }, e: null, f: 0 }, given)).toBe(false);
    expect(sameData({ a: '1', b: { c: [1, { d: 'x' }] }, e: null }, given)).toBe(false);
    expect(sameData({ a: 1, b: { c: [1, { d: 'y' }] }, e: null }, given)).toBe(false);
    expect(sameData({ a: 1, b: { c: [1] }, e: null }, given)).toBe(false);
  });

  it('fails on anything but plain objects and arrays', () => {
    const given = frozen({ a: { b: 1 } });
    expect(sameData({ a: new Proxy({ b: 1 }, {}) }, given)).toBe(false);
    expect(sameData({ a: Object.assign(Object.create({ z: 1 }), { b: 1 }) }, given)).toBe(false);
    expect(sameData(new Proxy({ a: { b: 1 } }, {}), given)).toBe(false);
    class Box {
      b = 1;
    }
    expect(sameData({ a: new Box() }, given)).toBe(false);
  });

  it('fails, so a full snapshot follows, when Object.prototype has an enumerable key', () => {
    const given = frozen({ a: 1 });
    let polluted: boolean;
    Object.defineProperty(Object.prototype, 'polluted', {
      value: 1,
      enumerable: true,
      configurable: true,
      writable: true,
    });
    try {
      polluted = sameData({ a: 1 }, given);
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    expect(polluted).toBe(false);
    expect(sameData({ a: 1 }, given)).toBe(true);
  });

  it('ignores a non-enumerable key of the output, as a snapshot of it would', () => {
    const given = frozen({ a: 1 });
    const output = { a: 1 };
    Object.defineProperty(output, 'hidden', { value: 2, enumerable: false });
    expect(sameData(output, given)).toBe(true);
    expect(frozen(output)).toEqual(given);
  });

  it('agrees with comparing canonical JSON, on generated data and one changed key', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 }),
        fc.string({ maxLength: 4 }),
        fc.jsonValue({ maxDepth: 1 }),
        (value, key, changed) => {
          const given = frozen(value);
          const copy = JSON.parse(JSON.stringify(value));
          expect(sameData(copy, given)).toBe(true);
          const other = { ...copy, [key]: changed };
          const equal = canonicalJson(frozen(other)) === canonicalJson(given);
          expect(sameData(other, given)).toBe(equal);
        },
      ),
      { numRuns: 500 },
    );
  });
});
