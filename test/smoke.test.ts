import { expect, test } from 'vitest';
import { z } from 'zod';
import { autoApprove, createGuard, memoryAudit, rules, ToolDeniedError } from '../src/index.ts';

test('smoke', async () => {
  const audit = memoryAudit();
  const tg = createGuard({
    policy: rules([
      { id: 'read', effect: 'allow', tool: 'db.read' },
      { id: 'refund', effect: 'ask', tool: 'payments.*' },
    ]),
    approver: autoApprove(),
    audit,
  });
  const read = tg.guard(async (args: { id: number }) => ({ id: args.id }), {
    name: 'db.read',
    input: z.object({ id: z.number() }),
  });
  expect(await read({ id: 1 })).toEqual({ id: 1 });
  const refund = tg.guard(async (args: { amount: number }) => args.amount, { name: 'payments.refund' });
  expect(await refund({ amount: 5 })).toBe(5);
  const del = tg.guard(async () => 1, { name: 'db.delete' });
  await expect(del({})).rejects.toBeInstanceOf(ToolDeniedError);
  await expect(read({ id: 1, extra: 2 } as any)).rejects.toMatchObject({ code: 'INVALID_ARGS' });
  console.log(JSON.stringify(audit.events, null, 1).slice(0, 3000));
});
