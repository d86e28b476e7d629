// G9 for edit then approve: the tool runs with exactly the args the approver approved, even when
// the tool's input schema transforms what it validates (dollars into cents, trimming, defaults).
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { approvalQueue, queueApprover } from '../../src/approval/queue.ts';
import {
  type ApprovalRequest,
  type ApprovalResponse,
  callbackApprover,
  hashJson,
  type JsonObject,
  memoryStore,
  type StandardSchemaV1,
} from '../../src/index.ts';
import { ask, engine, ofType, setup, spy } from './helpers.ts';

/** Takes dollars, gives cents: the args the approver sees are the cents. */
const Refund = z.object({
  orderId: z.string(),
  amountCents: z.number().transform((dollars) => Math.round(dollars * 100)),
});

const approveWith =
  (args: JsonObject, seen?: ApprovalRequest[]) =>
  (request: ApprovalRequest): ApprovalResponse => {
    seen?.push(request);
    return { requestId: request.id, approved: true, approver: 'user:7', args };
  };

describe('edit then approve through a transforming schema', () => {
  it('refuses an edit the schema would change (APPROVAL_INVALID, says why) and never runs the tool', async () => {
    const seen: ApprovalRequest[] = [];
    const { tg, audit } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover(approveWith({ orderId: 'o1', amountCents: 250 }, seen)),
    });
    const tool = spy();
    const result = await tg.guard(tool.fn, { name: 'payments.refund', input: Refund })({
      orderId: 'o1',
      amountCents: 4,
    });
    expect(seen[0]!.args).toEqual({ orderId: 'o1', amountCents: 400 });
    expect(result).toMatchObject({ denied: true, code: 'APPROVAL_INVALID' });
    expect((result as { reason: string }).reason).toMatch(
      /edited arguments are invalid: .*input schema changes them/,
    );
    expect(tool.calls).toHaveLength(0);
    const response = ofType(audit.events, 'approval-response')[0]!;
    expect(response).toMatchObject({ approved: true, approver: 'user:7', code: 'APPROVAL_INVALID' });
    // The records keep the args asked about, never what the schema would have made of the edit.
    expect(ofType(audit.events, 'decision')[0]).toMatchObject({
      decision: 'deny',
      code: 'APPROVAL_INVALID',
      args: { orderId: 'o1', amountCents: 400 },
    });
  });

  it('accepts an edit the schema keeps exactly, and runs with it', async () => {
    // 0 dollars are 0 cents: a fixed point of the schema, so what runs is what was approved.
    const { tg, audit } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover(approveWith({ amountCents: 0, orderId: 'o1' })),
    });
    const tool = spy();
    await expect(
      tg.guard(tool.fn, { name: 'payments.refund', input: Refund })({ orderId: 'o1', amountCents: 4 }),
    ).resolves.toBe('ran');
    expect(tool.calls).toEqual([{ orderId: 'o1', amountCents: 0 }]);
    expect(ofType(audit.events, 'decision')[0]!.argsHash).toBe(hashJson({ orderId: 'o1', amountCents: 0 }));
  });

  it('refuses an edit a schema changes in other ways: trimming, defaults, coercion', async () => {
    const cases: [StandardSchemaV1, JsonObject][] = [
      [z.object({ to: z.string().trim() }), { to: ' evil ' }],
      [z.object({ to: z.string(), cc: z.string().default('audit@corp') }), { to: 'a' }],
      [z.object({ n: z.coerce.number() }), { n: '7' }],
    ];
    for (const [input, edited] of cases) {
      const { tg } = setup({ policy: engine(() => ask()), approver: callbackApprover(approveWith(edited)) });
      const tool = spy();
      const first = Object.fromEntries(Object.keys(edited).map((key) => [key, key === 'n' ? 1 : 'x']));
      await expect(tg.guard(tool.fn, { name: 't', input })(first)).resolves.toMatchObject({
        code: 'APPROVAL_INVALID',
      });
      expect(tool.calls).toHaveLength(0);
    }
  });

  it('an asynchronous transforming schema is refused too', async () => {
    const Async = z.object({
      amountCents: z.number().transform(async (dollars) => Math.round(dollars * 100)),
    });
    const { tg, audit } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover(approveWith({ amountCents: 250 })),
    });
    const tool = spy();
    await expect(tg.guard(tool.fn, { name: 't', input: Async })({ amountCents: 4 })).resolves.toMatchObject({
      code: 'APPROVAL_INVALID',
    });
    expect(tool.calls).toHaveLength(0);
    // The refused edit is rolled back: the records carry the args that were asked about, never
    // the schema's output of the edit (25000).
    const decision = ofType(audit.events, 'decision')[0]!;
    expect(decision).toMatchObject({ decision: 'deny', args: { amountCents: 400 } });
  });

  it('holds over a channel that leaves the process (the queue, as the CLI and console use it)', async () => {
    const store = memoryStore();
    const secret = 'edit-secret-that-is-at-least-32-bytes!';
    const { tg } = setup({
      policy: engine(() => ask()),
      approver: queueApprover({ store, secret, pollMs: 20 }),
      store,
    });
    const tool = spy();
    const pending = tg.guard(tool.fn, { name: 'payments.refund', input: Refund })({
      orderId: 'o1',
      amountCents: 4,
    });
    const queue = approvalQueue({ store, secret });
    let list = await queue.list();
    while (list.length === 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      list = await queue.list();
    }
    await queue.resolve(list[0]!.id, {
      approved: true,
      approver: 'user:7',
      args: { orderId: 'o1', amountCents: 250 },
    });
    await expect(pending).resolves.toMatchObject({ code: 'APPROVAL_INVALID' });
    expect(tool.calls).toHaveLength(0);
  });
});

describe('the approval request says when edits cannot be accepted', () => {
  async function requestFor(input: StandardSchemaV1 | undefined, args: Record<string, unknown>) {
    let seen: ApprovalRequest | undefined;
    const { tg } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover((request) => {
        seen = request;
        return { requestId: request.id, approved: false, approver: 'user:7', reason: 'looked' };
      }),
    });
    await tg.guard(() => 'ran', { name: 't', ...(input === undefined ? {} : { input }) })(args);
    return seen!;
  }

  it('editable: false for a schema that does not give the args back unchanged', async () => {
    expect((await requestFor(Refund, { orderId: 'o1', amountCents: 4 })).editable).toBe(false);
  });

  it('nothing for a schema that keeps them, or no schema', async () => {
    const Plain = z.object({ amountCents: z.number().max(1000) }).strict();
    expect((await requestFor(Plain, { amountCents: 4 })).editable).toBeUndefined();
    expect((await requestFor(undefined, { amountCents: 4 })).editable).toBeUndefined();
    // Trimming already happened: the args shown are a fixed point, so edits like them are fine.
    const Trimmed = z.object({ to: z.string().trim() });
    expect((await requestFor(Trimmed, { to: ' a ' })).editable).toBeUndefined();
  });
});
