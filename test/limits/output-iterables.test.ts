import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { capOutput } from '../../src/limits/output.ts';
import { codeOf, limitedGuard, limitedPolicy } from './helpers.ts';

// maxRows on rows toolgate does not hold: rows it cannot count without reading them (iterators,
// streams, async iterables, a `rows` that is one, or a promise), and arrays whose copy their own
// class would build (`Symbol.species`). The caller never gets more rows than the cap.

const BIG = Array.from({ length: 1000 }, (_, i) => ({ id: i }));

/** How many rows a caller reads from what came back, however it holds them. */
async function rowsRead(value: unknown): Promise<number> {
  let count = 0;
  if (typeof value !== 'object' || value === null) return 0;
  if (Array.isArray(value)) return value.length;
  if (Symbol.asyncIterator in value) {
    for await (const _ of value as AsyncIterable<unknown>) count++;
    return count;
  }
  if (Symbol.iterator in value) return [...(value as Iterable<unknown>)].length;
  const rows = (value as { rows?: unknown }).rows;
  return rows === undefined ? 0 : rowsRead(await rows);
}

/** An array class whose species builds a "copy" that takes no writes and keeps every row. */
class AllRows extends Array {
  static override get [Symbol.species](): ArrayConstructor {
    return (() =>
      new Proxy(BIG.slice(), { defineProperty: () => true, set: () => true })) as unknown as ArrayConstructor;
  }
}

function allRows(n: number): AllRows {
  const rows = new AllRows();
  for (let i = 0; i < n; i++) rows.push({ id: i });
  return rows;
}

describe('maxRows never hands back more rows than the cap', () => {
  const shapes: [string, () => unknown][] = [
    ['a generator', () => BIG.values()],
    [
      'an async generator',
      () =>
        (async function* () {
          yield* BIG;
        })(),
    ],
    ['a Set', () => new Set(BIG)],
    ['a Map', () => new Map(BIG.map((row) => [row.id, row]))],
    ['an object-mode stream', () => Readable.from(BIG)],
    [
      '{ rows: an async iterable }',
      () => ({
        rows: (async function* () {
          yield* BIG;
        })(),
      }),
    ],
    ['{ rows: a promise of rows }', () => ({ rows: Promise.resolve(BIG) })],
  ];

  it.each(shapes)('%s cannot be counted without reading it: withheld', async (_name, make) => {
    const capped = capOutput(make(), { maxRows: 5 });
    expect(capped.ok).toBe(false);
    const { tg, audit } = limitedGuard(limitedPolicy({}, { obligations: { maxRows: 5 } }));
    const query = tg.guard(async () => make(), { name: 'db.query' });
    const out = await query({});
    expect(codeOf(out)).toBe('DENIED_BY_RULE');
    expect(await rowsRead(out)).toBe(0);
    expect(audit.events.find((event) => event.type === 'result')).toMatchObject({ outcome: 'error' });
  });

  it('an Array subclass with its own species: the rows are copied into a plain array', async () => {
    for (const [rows, expected] of [
      [allRows(10), 5],
      [allRows(2), 2],
    ] as const) {
      const capped = capOutput(rows, { maxRows: 5 }) as { ok: true; value: unknown[] };
      expect(capped.ok).toBe(true);
      expect(await rowsRead(capped.value)).toBe(expected);
      expect(Object.getPrototypeOf(capped.value)).toBe(Array.prototype);
      const result = capOutput({ rows, rowCount: rows.length }, { maxRows: 5 }) as {
        value: { rows: unknown[] };
      };
      expect(result.value.rows).toHaveLength(expected);
      expect(Object.getPrototypeOf(result.value.rows)).toBe(Array.prototype);
    }
    const { tg } = limitedGuard(limitedPolicy({}, { obligations: { maxRows: 5 } }));
    const out = await tg.guard(async () => allRows(10), { name: 'db.query' })({});
    expect(await rowsRead(out)).toBe(5);
  });

  it('strings, typed arrays and plain objects without rows still pass as they are', () => {
    const bytes = new Uint8Array(100);
    expect(capOutput(bytes, { maxRows: 5 })).toEqual({ ok: true, value: bytes });
    expect(capOutput('text', { maxRows: 5 })).toEqual({ ok: true, value: 'text' });
    const plain = { count: 3 };
    expect(capOutput(plain, { maxRows: 5 })).toEqual({ ok: true, value: plain });
  });
});
