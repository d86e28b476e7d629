import { type } from 'arktype';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type ApprovalRequest, callbackApprover, createGuard, rules } from '../../src/index.ts';

async function askedWith(
  input: Parameters<ReturnType<typeof createGuard>['guard']>[1]['input'],
  risk?: string,
) {
  let seen: ApprovalRequest | undefined;
  const tg = createGuard({
    policy: rules([{ id: 'ask', effect: 'ask', tool: 't' }]),
    approver: callbackApprover((request) => {
      seen = request;
      return { requestId: request.id, approved: true, approver: 'a' };
    }),
  });
  const tool = tg.guard(async () => 'ok', {
    name: 't',
    ...(input === undefined ? {} : { input }),
    ...(risk === undefined ? {} : { risk }),
  });
  await tool({ amount: 5 });
  return seen!;
}

describe('approval requests carry the tool input JSON Schema when it can be produced', () => {
  it('zod 4 and arktype (Standard JSON Schema) give one; the risk label travels too', async () => {
    const fromZod = await askedWith(z.object({ amount: z.number().max(10) }).strict(), 'high');
    expect(fromZod.inputSchema).toMatchObject({
      type: 'object',
      properties: { amount: { type: 'number', maximum: 10 } },
    });
    expect(Object.isFrozen(fromZod.inputSchema)).toBe(true);
    expect(fromZod.risk).toBe('high');
    const fromArk = await askedWith(type({ amount: 'number' }));
    expect(fromArk.inputSchema).toMatchObject({ type: 'object', required: ['amount'] });
  });

  it('no schema, or one that cannot describe itself, gives none', async () => {
    expect((await askedWith(undefined)).inputSchema).toBeUndefined();
    const valibot = await askedWith(v.object({ amount: v.number() }));
    const hasJsonSchema =
      typeof (v.object({})['~standard'] as { jsonSchema?: unknown }).jsonSchema === 'object';
    expect(valibot.inputSchema === undefined).toBe(!hasJsonSchema);
    const dated = await askedWith(z.object({ amount: z.number(), at: z.date().optional() }));
    expect(dated.inputSchema).toBeUndefined();
  });
});
