import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, hashJson } from '../../src/_internal/canonical.ts';
import { snapshot } from '../../src/_internal/snapshot.ts';

describe('canonical JSON and argsHash', () => {
  it('sorts keys by UTF-16 code units and has no whitespace (RFC 8785)', () => {
    expect(canonicalJson({ b: 1, a: [true, null, 'x'], c: { z: 1, y: 2 } })).toBe(
      '{"a":[true,null,"x"],"b":1,"c":{"y":2,"z":1}}',
    );
    // RFC 8785 §3.2.3 orders by UTF-16 code units: '\u20ac' (€) sorts before '\ud83d\ude00' (😀), after 'ö'.
    expect(canonicalJson({ '😀': 1, '€': 2, ö: 3, a: 4 })).toBe('{"a":4,"ö":3,"€":2,"😀":1}');
  });

  it('uses ECMAScript number forms', () => {
    expect(canonicalJson([1e21, 1e-7, 0.1, -0, 123456789012345680000, 5e-324])).toBe(
      '[1e+21,1e-7,0.1,0,123456789012345680000,5e-324]',
    );
  });

  it('escapes only what JSON requires', () => {
    expect(canonicalJson({ s: 'a"b\\c\n\u0001é€' })).toBe('{"s":"a\\"b\\\\c\\n\\u0001é€"}');
  });

  it('rejects values JSON cannot represent', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow(/non-finite/);
    expect(() => canonicalJson({ n: Number.POSITIVE_INFINITY })).toThrow(/non-finite/);
    expect(() => canonicalJson({ u: undefined })).toThrow(/not JSON data/);
  });

  it('hashes to lowercase hex SHA-256 of the canonical text', () => {
    const expected = createHash('sha256').update('{"a":1,"b":"x"}').digest('hex');
    expect(hashJson({ b: 'x', a: 1 })).toBe(expected);
    expect(hashJson({ a: 1 })).toMatch(/^[0-9a-f]{64}$/);
  });

  it('property: key order never changes the hash', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), (value) => {
        const reversed = Object.fromEntries(Object.entries(value).reverse());
        expect(hashJson(reversed)).toBe(hashJson(value));
      }),
      { numRuns: 300 },
    );
  });

  it('property: canonical text parses back to the same data', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(JSON.parse(JSON.stringify(value)));
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });

  it('property: -0 and 0 hash alike; NaN and Infinity never hash', () => {
    fc.assert(
      fc.property(fc.double(), (number) => {
        if (!Number.isFinite(number)) {
          expect(() => hashJson({ n: number })).toThrow();
          expect(snapshot({ n: number }, { maxBytes: 1000, maxDepth: 4 }).ok).toBe(false);
        } else {
          expect(hashJson({ n: number })).toBe(hashJson({ n: number === 0 ? 0 : number }));
        }
      }),
      { numRuns: 300 },
    );
    expect(hashJson({ n: -0 })).toBe(hashJson({ n: 0 }));
  });
});
