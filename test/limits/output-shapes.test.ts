import { describe, expect, it } from 'vitest';
import { capOutput } from '../../src/limits/output.ts';
import { limitedGuard, limitedPolicy } from './helpers.ts';

// A node-postgres Result: a class instance, not a plain object.
class PgResult {
  command = 'SELECT';
  rowCount: number | null = null;
  rows: unknown[] = [];
  fields: unknown[] = [{ name: 'id' }];
  get computed(): never {
    throw new Error('a getter must never run');
  }
}

function pgResult(n: number): PgResult {
  const result = new PgResult();
  for (let i = 0; i < n; i++) result.rows.push({ id: i });
  result.rowCount = n;
  return result;
}

/** mysql2's `[rows, fields]`: fields are ColumnDefinition instances with a `name`. */
class ColumnDefinition {
  constructor(
    readonly name: string,
    readonly columnType = 3,
  ) {}
}

function mysqlTuple(n: number): [unknown[], ColumnDefinition[]] {
  return [Array.from({ length: n }, (_, i) => ({ id: i })), [new ColumnDefinition('id')]];
}

describe('output caps: the shapes of database clients', () => {
  it('maxRows cuts a node-postgres Result instance into a plain copy', async () => {
    const { tg, audit } = limitedGuard(limitedPolicy({}, { obligations: { maxRows: 5 } }));
    const original = pgResult(1000);
    const query = tg.guard(async () => original, { name: 'db.query' });
    const out = (await query({})) as unknown as Record<string, unknown>;
    expect((out.rows as unknown[]).length).toBe(5);
    expect(out).toEqual({
      command: 'SELECT',
      rowCount: 1000,
      rows: [{ id: 0 }, { id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }],
      fields: [{ name: 'id' }],
    });
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(original.rows).toHaveLength(1000);
    expect(audit.events.find((e) => e.type === 'result')).toMatchObject({
      outputCut: { rows: { from: 1000, to: 5 } },
    });
  });

  it('a Result within the cap comes back as a copy of its data, which the tool can no longer grow', () => {
    const original = pgResult(3);
    const capped = capOutput(original, { maxRows: 5 });
    expect(capped.ok).toBe(true);
    const value = (capped as { value: { rows: unknown[]; rowCount: number } }).value;
    expect(value).not.toBe(original);
    expect(value.rows).toEqual(original.rows);
    expect(value.rowCount).toBe(3);
    original.rows.push({ id: 99 });
    expect(value.rows).toHaveLength(3);
  });

  describe('the result is read once: what goes back is what was checked', () => {
    // Before: the caps measured the tool's live value and handed it back: a toJSON or a getter
    // answering bigger the second time, or rows pushed after the check, passed the cap.
    it('a toJSON that answers small, then big', () => {
      let calls = 0;
      const sneaky = { toJSON: () => (calls++ === 0 ? { ok: 1 } : { big: 'x'.repeat(1_000_000) }) };
      const capped = capOutput(sneaky, { maxBytes: 100 });
      expect(capped).toEqual({ ok: true, value: { ok: 1 } });
      expect(JSON.stringify((capped as { value: unknown }).value).length).toBeLessThan(100);
    });

    it('a getter that answers small, then big', () => {
      let reads = 0;
      const sneaky = {
        get data() {
          return reads++ === 0 ? 'small' : 'x'.repeat(1_000_000);
        },
      };
      const capped = capOutput(sneaky, { maxBytes: 100 });
      expect(JSON.stringify((capped as { value: unknown }).value)).toBe('{"data":"small"}');
    });

    it('rows pushed after the check', () => {
      const rows = [{ id: 1 }];
      const capped = capOutput(rows, { maxRows: 2 });
      rows.push(...Array.from({ length: 1000 }, (_, id) => ({ id })));
      expect((capped as { value: unknown[] }).value).toHaveLength(1);
    });
  });

  it('maxBytes drops rows of a Result instance until it fits', () => {
    const capped = capOutput(pgResult(100), { maxBytes: 200 });
    expect(capped.ok).toBe(true);
    const value = (capped as { value: { rows: unknown[] } }).value;
    expect(Buffer.byteLength(JSON.stringify(value))).toBeLessThanOrEqual(200);
    expect(value.rows.length).toBeGreaterThan(0);
    expect(value.rows.length).toBeLessThan(100);
  });

  it('maxRows cuts the rows of a mysql2 [rows, fields] tuple, for any cap', async () => {
    for (const maxRows of [0, 1, 2, 5]) {
      const { tg } = limitedGuard(limitedPolicy({}, { obligations: { maxRows } }));
      const tuple = mysqlTuple(50);
      const query = tg.guard(async () => tuple, { name: 'db.query' });
      const out = (await query({})) as [unknown[], ColumnDefinition[]];
      expect(out).toHaveLength(2);
      expect(out[0]).toHaveLength(maxRows);
      expect(out[1]).toBe(tuple[1]);
      expect(tuple[0]).toHaveLength(50);
    }
  });

  it('maxBytes drops rows of a mysql2 tuple, keeping its fields', () => {
    const capped = capOutput(mysqlTuple(100), { maxBytes: 150 });
    expect(capped.ok).toBe(true);
    const [rows, fields] = (capped as { value: [unknown[], unknown[]] }).value;
    expect(fields).toEqual([{ name: 'id', columnType: 3 }]);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.length).toBeLessThan(100);
  });

  it('a plain array of two arrays is still an array of rows', () => {
    const capped = capOutput(
      [
        [1, 2],
        [3, 4],
      ],
      { maxRows: 1 },
    );
    expect(capped).toMatchObject({ ok: true, value: [[1, 2]] });
  });

  it('rows behind a getter are never run: the cap cannot be applied, so the result is withheld', async () => {
    let ran = false;
    const value = {
      get rows() {
        ran = true;
        return [1, 2, 3];
      },
    };
    expect(() => capOutput(value, { maxRows: 1 })).toThrow(TypeError);
    class Lazy {
      get rows(): number[] {
        ran = true;
        return [1, 2, 3];
      }
    }
    expect(() => capOutput(new Lazy(), { maxRows: 1 })).toThrow(TypeError);
    const { tg } = limitedGuard(limitedPolicy({}, { obligations: { maxRows: 1 } }), {
      onDeny: 'throw',
    } as never);
    const error = await Promise.resolve(tg.guard(async () => new Lazy(), { name: 'db.query' })({})).catch(
      (e: unknown) => e as Error,
    );
    expect((error as Error).message).toMatch(/withheld/);
    expect(ran).toBe(false);
    // An accessor beside the rows is left out of the copy, not run.
    const result = pgResult(10);
    const capped = capOutput(result, { maxRows: 2 });
    expect(capped.ok && Object.keys(capped.value as object)).toEqual([
      'command',
      'rowCount',
      'rows',
      'fields',
    ]);
  });

  it('an own __proto__ key of a cut result stays a key', () => {
    const value = JSON.parse('{"__proto__": {"polluted": true}, "rows": [1, 2, 3]}') as object;
    const capped = capOutput(value, { maxRows: 1 });
    const out = (capped as { value: Record<string, unknown> }).value;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(out.rows).toEqual([1]);
  });

  it('maxBytes under 2: nothing fits, so a string is withheld rather than returned over the cap', () => {
    for (const maxBytes of [0, 1]) {
      const capped = capOutput('abc', { maxBytes });
      expect(capped.ok).toBe(false);
    }
    // A value whose JSON fits still passes.
    expect(capOutput(7, { maxBytes: 1 })).toEqual({ ok: true, value: 7 });
    expect(capOutput('abc', { maxBytes: 2 })).toMatchObject({ ok: true, value: '' });
  });
});
