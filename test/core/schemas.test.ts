import { type } from 'arktype';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createGuard, memoryAudit, type StandardSchemaV1 } from '../../src/index.ts';
import { ALLOW, engine, spyTool } from './helpers.ts';

// The same argument shape in three Standard Schema libraries.
const schemas: [string, StandardSchemaV1][] = [
  ['zod', z.object({ to: z.string(), amount: z.number().positive() })],
  ['valibot', v.object({ to: v.string(), amount: v.pipe(v.number(), v.minValue(0.01)) })],
  ['arktype', type({ to: 'string', amount: 'number > 0', '+': 'reject' })],
];

describe.each(schemas)('Standard Schema: %s', (_name, schema) => {
  it('accepts valid arguments and runs the tool with them', async () => {
    const tg = createGuard({ policy: engine(ALLOW) });
    const spy = spyTool();
    await tg.guard(spy.fn, { name: 't', input: schema })({ to: 'acct', amount: 5 });
    expect(spy.calls).toEqual([{ to: 'acct', amount: 5 }]);
  });

  it('denies invalid arguments with INVALID_ARGS naming the field', async () => {
    const tg = createGuard({ policy: engine(ALLOW), onDeny: 'return' });
    const spy = spyTool();
    const tool = tg.guard(spy.fn, { name: 't', input: schema });
    const denial = await tool({ to: 'acct', amount: -1 });
    expect(denial).toMatchObject({ denied: true, code: 'INVALID_ARGS' });
    expect((denial as { reason: string }).reason).toContain('amount');
    await expect(tool({ to: 1, amount: 1 })).resolves.toMatchObject({ code: 'INVALID_ARGS' });
    expect(spy.calls).toHaveLength(0);
  });

  it('denies unknown keys', async () => {
    const tg = createGuard({ policy: engine(ALLOW), onDeny: 'return' });
    const spy = spyTool();
    await expect(
      tg.guard(spy.fn, { name: 't', input: schema })({ to: 'a', amount: 1, role: 'admin' }),
    ).resolves.toMatchObject({
      code: 'INVALID_ARGS',
    });
    expect(spy.calls).toHaveLength(0);
  });
});

describe('schema output', () => {
  it('runs the parsed value (defaults, transforms), still frozen JSON data', async () => {
    const tg = createGuard({ policy: engine(ALLOW) });
    const spy = spyTool();
    const schema = z.object({ q: z.string().trim(), limit: z.number().default(10) });
    await tg.guard(spy.fn, { name: 't', input: schema })({ q: '  hello ' });
    expect(spy.calls).toEqual([{ q: 'hello', limit: 10 }]);
    expect(Object.isFrozen(spy.calls[0])).toBe(true);
  });

  it('denies a schema whose output is not JSON data', async () => {
    const tg = createGuard({ policy: engine(ALLOW), onDeny: 'return' });
    const spy = spyTool();
    const schema = z.object({ when: z.string().transform((s) => new Date(s)) });
    await expect(
      tg.guard(spy.fn, { name: 't', input: schema })({ when: '2026-01-01' }),
    ).resolves.toMatchObject({
      code: 'INVALID_ARGS',
    });
    expect(spy.calls).toHaveLength(0);
  });

  it('denies, and records, a schema output whose reading throws (a getter, at any depth); the tool never runs', async () => {
    const throwing = Object.defineProperty({}, 'a', {
      enumerable: true,
      get() {
        throw new Error('getter of the schema output');
      },
    });
    const nested = {
      a: Object.defineProperty({}, 'b', {
        enumerable: true,
        get() {
          throw new Error('nested getter');
        },
      }),
    };
    for (const output of [throwing, nested]) {
      const audit = memoryAudit();
      const tg = createGuard({ policy: engine(ALLOW), audit, onDeny: 'return' });
      const spy = spyTool();
      const schema = {
        '~standard': { version: 1 as const, vendor: 'test', validate: () => ({ value: output }) },
      };
      await expect(tg.guard(spy.fn, { name: 't', input: schema })({ a: { b: 1 } })).resolves.toMatchObject({
        code: 'INVALID_ARGS',
      });
      expect(spy.calls).toHaveLength(0);
      expect(audit.events.map((event) => [event.type, (event as { code?: string }).code])).toEqual([
        ['decision', 'INVALID_ARGS'],
      ]);
    }
  });

  it('the policy sees the parsed value that runs', async () => {
    const seen: unknown[] = [];
    const tg = createGuard({
      policy: engine((request: { args: unknown }) => {
        seen.push(request.args);
        return ALLOW;
      }),
    });
    const spy = spyTool();
    await tg.guard(spy.fn, { name: 't', input: z.object({ n: z.coerce.number() }) })({ n: '7' });
    expect(seen).toEqual([{ n: 7 }]);
    expect(spy.calls[0]).toBe(seen[0]);
  });
});
