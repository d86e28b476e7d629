import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, canonicalObjectOmittingUndefined } from '../../src/_internal/canonical.ts';
import { captureJson } from '../../src/_internal/canonical-capture.ts';
import { CanonicalWriter, encodedWrite } from '../../src/_internal/canonical-writer.ts';

/** RFC 8785 the plain way: the reference the fast serializers are held to. */
function reference(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError('non-finite');
    if (
      value === undefined ||
      typeof value === 'function' ||
      typeof value === 'bigint' ||
      typeof value === 'symbol'
    )
      throw new TypeError('not JSON data');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${reference(record[key])}`).join(',')}}`;
}

function written(value: unknown, capacity?: number): string {
  const writer = new CanonicalWriter(capacity);
  writer.value(value);
  return writer.bytes.toString('utf8', 0, writer.length);
}

// Strings of every kind of code unit: controls, quotes, backslashes, non-ASCII, pairs and lone surrogates.
const anyString = fc.string({ unit: 'binary', maxLength: 40, size: 'max' });
// Mostly printable ASCII, now and then a character the writer's plain-text paths must not take as
// it is, at any position of short and long strings (the writer copies longer ones natively).
const mostlyAscii = fc.string({
  unit: fc.oneof(
    { arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((code) => String.fromCharCode(code)), weight: 30 },
    {
      arbitrary: fc.constantFrom(
        '"',
        '\\',
        '\n',
        '\u0000',
        '\u001f',
        '\u007f',
        'é',
        '€',
        '\ud800',
        '\udc00',
        '😀',
      ),
      weight: 2,
    },
  ),
  maxLength: 60,
  size: 'max',
});
// Integers of every size, up to and past the safe range (the writer writes safe ones digit by digit).
const anyInteger = fc.oneof(
  fc.integer(),
  fc.maxSafeInteger(),
  fc.constantFrom(
    0,
    -0,
    9,
    10,
    99,
    100,
    1e8 - 1,
    1e8,
    1e8 + 1,
    1_796_599_957_605,
    1e15,
    2 ** 53 - 1,
    -(2 ** 53) + 1,
    2 ** 53,
    2 ** 53 + 2,
    1e21,
    1e22,
  ),
);
const data = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    anyString,
    mostlyAscii,
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    anyInteger,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(anyString, tie('value'), { maxKeys: 6 }),
  ),
})).value;

describe('canonical JSON fast paths', () => {
  it('property: canonicalJson and the byte writer produce the reference text', () => {
    fc.assert(
      fc.property(data, fc.integer({ min: 1, max: 64 }), (value, capacity) => {
        const expected = reference(value);
        expect(canonicalJson(value)).toBe(expected);
        expect(written(value, capacity)).toBe(expected);
      }),
      { numRuns: 2_000 },
    );
  });

  it('property: strings of plain ASCII with a character that needs care at any position, short or long', () => {
    fc.assert(
      fc.property(mostlyAscii, fc.integer({ min: 1, max: 64 }), (text, capacity) => {
        expect(written(text, capacity)).toBe(JSON.stringify(text));
        expect(written({ [text]: [text, text.length] }, capacity)).toBe(
          reference({ [text]: [text, text.length] }),
        );
      }),
      { numRuns: 3_000 },
    );
  });

  it('property: objects of one shape reuse a plan and still sort their own keys', () => {
    fc.assert(
      fc.property(fc.uniqueArray(anyString, { minLength: 1, maxLength: 8 }), fc.nat(), (keys, seed) => {
        const first = Object.fromEntries(keys.map((key, i) => [key, i + seed]));
        const again = Object.fromEntries(keys.map((key, i) => [key, `${i}`]));
        expect(canonicalJson(first)).toBe(reference(first));
        expect(written(again)).toBe(reference(again));
      }),
      { numRuns: 500 },
    );
  });

  it('property: records of one shape whose members repeat (copied from the last record) are still exact', () => {
    // A small pool per member, so values come back: scalars that look alike in other types, every
    // kind of string, numbers (0 and -0 are equal and written alike), and one object per member
    // that is changed between records (objects are never remembered: they are not their content).
    const lookalikes = [1, '1', true, 'true', 0, -0, '0', null, 'null', false, ''];
    const anyPool = fc.array(
      fc.oneof(
        fc.constantFrom(...lookalikes),
        anyString,
        mostlyAscii,
        fc.string({ minLength: 250, maxLength: 300 }),
        anyInteger,
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.constant('object'),
      ),
      { minLength: 1, maxLength: 4 },
    );
    const pool = fc.oneof(anyPool, fc.constant(lookalikes));
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.string({ maxLength: 6 }), { minLength: 1, maxLength: 6 }),
        fc.array(pool, { minLength: 6, maxLength: 6 }),
        fc.array(fc.array(fc.nat(), { minLength: 6, maxLength: 6 }), { minLength: 2, maxLength: 12 }),
        (keys, pools, picks) => {
          const writer = new CanonicalWriter(16);
          const objects = keys.map(() => ({ n: 0 }) as Record<string, unknown>);
          for (const [round, pick] of picks.entries()) {
            const record = Object.fromEntries(
              keys.map((key, i) => {
                const choices = pools[i]!;
                const chosen = choices[pick[i]! % choices.length];
                if (chosen !== 'object') return [key, chosen];
                objects[i]!.n = round;
                return [key, objects[i]];
              }),
            );
            const start = writer.length;
            writer.objectOmittingUndefined(record);
            expect(writer.bytes.toString('utf8', start, writer.length)).toBe(reference(record));
          }
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('property: one more member (a computed field) sorts in as if it were an own property', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 4 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 5 }),
        fc.string({ maxLength: 4 }),
        fc.jsonValue({ maxDepth: 1 }),
        (fields, extraKey, extraValue) => {
          const record = JSON.parse(JSON.stringify(fields)) as Record<string, unknown>;
          fc.pre(!Object.hasOwn(record, extraKey));
          const value = JSON.parse(JSON.stringify(extraValue)) as unknown;
          const writer = new CanonicalWriter(8);
          // The same shape without the extra member first: the two must not share a plan.
          writer.objectOmittingUndefined(record);
          const start = writer.length;
          writer.object(Object.keys(record), Object.values(record), extraKey, value);
          expect(writer.bytes.toString('utf8', 0, start)).toBe(reference(record));
          expect(writer.bytes.toString('utf8', start, writer.length)).toBe(
            reference({ ...record, [extraKey]: value }),
          );
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('property: a capture writes as the value did when captured, and throws where canonicalJson throws', () => {
    // JSON data, and now and then something JSON cannot hold, at any depth.
    const odd = fc.constantFrom(undefined, Number.NaN, Number.POSITIVE_INFINITY, () => 1, Symbol('s'), 1n);
    const anything = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        { arbitrary: data, weight: 8 },
        { arbitrary: odd, weight: 1 },
        { arbitrary: fc.array(tie('value'), { maxLength: 4 }), weight: 2 },
        { arbitrary: fc.dictionary(fc.string({ maxLength: 4 }), tie('value'), { maxKeys: 4 }), weight: 2 },
      ),
    })).value;
    fc.assert(
      fc.property(anything, (value) => {
        let expected: string | undefined;
        try {
          expected = canonicalJson(value);
        } catch {
          expected = undefined;
        }
        if (expected === undefined) {
          expect(() => captureJson(value)).toThrow(TypeError);
          return;
        }
        const captured = captureJson(value);
        // Whatever happens to the value afterwards.
        if (typeof value === 'object' && value !== null) {
          if (Array.isArray(value)) value.push('later');
          else (value as Record<string, unknown>).later = true;
        }
        expect(written(captured)).toBe(expected);
      }),
      { numRuns: 2_000 },
    );
  });

  it('writes UTF-8 exactly: pairs as four bytes, lone surrogates and controls escaped', () => {
    const value = { s: 'a"b\\c\n\u0001é€😀\ud800x\udc00', '\u007f': '\b\f\r\t' };
    const writer = new CanonicalWriter(4);
    writer.value(value);
    expect(writer.bytes.subarray(0, writer.length)).toEqual(Buffer.from(reference(value), 'utf8'));
    expect(written(value)).toBe('{"s":"a\\"b\\\\c\\n\\u0001é€😀\\ud800x\\udc00","\u007f":"\\b\\f\\r\\t"}');
  });

  it('objectOmittingUndefined leaves out undefined properties and reads each accessor once', () => {
    let reads = 0;
    const record: Record<string, unknown> = { z: 1, skipped: undefined, a: [1, 'x'] };
    Object.defineProperty(record, 'lazy', {
      enumerable: true,
      get: () => {
        reads += 1;
        return 'computed';
      },
    });
    const writer = new CanonicalWriter(2);
    writer.objectOmittingUndefined(record);
    expect(writer.bytes.toString('utf8', 0, writer.length)).toBe('{"a":[1,"x"],"lazy":"computed","z":1}');
    expect(reads).toBe(1);
    expect(canonicalObjectOmittingUndefined(record)).toBe('{"a":[1,"x"],"lazy":"computed","z":1}');
    expect(reads).toBe(2);
    const empty = new CanonicalWriter();
    empty.objectOmittingUndefined({ gone: undefined });
    expect(empty.bytes.toString('utf8', 0, empty.length)).toBe('{}');
  });

  it("uses Buffer's per-encoding writers where they exist, and buf.write where they do not", () => {
    for (const [name, encoding] of [
      ['latin1Write', 'latin1'],
      ['utf8Write', 'utf8'],
    ] as const) {
      expect(encodedWrite(Buffer.prototype, name, encoding)).toBe(Buffer.prototype[name as never]);
      const fallback = encodedWrite({}, name, encoding);
      const text = encoding === 'utf8' ? 'héllo, wörld €' : 'plain latin1 text';
      const expected = Buffer.alloc(40);
      const written = Buffer.alloc(40);
      const n = expected.write(text, 3, 30, encoding);
      expect(fallback.call(written, text, 3, 30)).toBe(n);
      expect(written).toEqual(expected);
      // A length that ends before the text does cuts it, as buf.write does.
      expect(fallback.call(Buffer.alloc(8), text, 0, 4)).toBe(4);
    }
  });

  it('refuses what JSON cannot represent, like canonicalJson', () => {
    for (const bad of [{ n: Number.NaN }, [Number.POSITIVE_INFINITY], { u: undefined }, { f: () => 1 }, 1n]) {
      expect(() => canonicalJson(bad)).toThrow(TypeError);
      expect(() => new CanonicalWriter().value(bad)).toThrow(TypeError);
    }
    expect(() => new CanonicalWriter().objectOmittingUndefined({ deep: { u: undefined } })).toThrow(
      TypeError,
    );
  });
});
