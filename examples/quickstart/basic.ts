import { createGuard, memoryAudit, rules, ToolDeniedError } from 'toolgate';
import { z } from 'zod';

// 1. A policy: deny by default; allow small refunds; ask a human for large ones.
const policy = rules([
  { id: 'small-refunds', effect: 'allow', tool: 'payments.refund', when: { 'args.amount': { lte: 100 } } },
  { id: 'large-refunds', effect: 'ask', tool: 'payments.refund', when: { 'args.amount': { gt: 100 } } },
]);

// 2. A guard with an approver (here: code; in production a person, see docs/approvals.md) and an audit sink.
const audit = memoryAudit();
const tg = createGuard({
  policy,
  audit,
  approver: {
    name: 'finance-lead',
    request: (request) => ({ requestId: request.id, approved: true, approver: 'user:finance-lead' }),
  },
});

// 3. Wrap the tool. The agent framework calls `refund` instead of `refundOrder`.
async function refundOrder(args: { orderId: string; amount: number }) {
  return { refunded: args.amount, orderId: args.orderId };
}
const refund = tg.guard(refundOrder, {
  name: 'payments.refund',
  input: z.object({ orderId: z.string(), amount: z.number().positive() }),
});
const deleteOrder = tg.guard(async (args: { orderId: string }) => args, { name: 'orders.delete' });

// 4. Calls carry who is acting, for whom and why: identity comes from the host, never the model.
await tg.withContext({ agent: 'support-bot', principal: 'user:42', intent: 'ticket-123' }, async () => {
  console.log(await refund({ orderId: 'o-1', amount: 40 })); // allowed by small-refunds
  console.log(await refund({ orderId: 'o-2', amount: 400 })); // allowed after approval
  try {
    await deleteOrder({ orderId: 'o-3' }); // no rule allows it: denied by default
  } catch (error) {
    if (ToolDeniedError.isInstance(error)) console.log(`denied: ${error.code} (${error.reason})`);
  }
});

// 5. Every request, decision, approval and result is in the audit trail.
for (const event of audit.events) {
  console.log(event.type, event.tool, 'decision' in event ? event.decision : '');
}
await tg.close();
