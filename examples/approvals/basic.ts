// Human approval with toolgate: approve, edit then approve, quorum with separation of duties,
// remembered approvals that become grants, grants issued up front, and a queue another process
// could answer. Runs offline, without a terminal: the "humans" are scripted.
import {
  type ApprovalRequest,
  type ApprovalResponse,
  approvalQueue,
  callbackApprover,
  createGuard,
  type Decision,
  memoryAudit,
  memoryStore,
  type PolicyEngine,
  queueApprover,
  type ToolRequest,
} from 'toolgate';

// A tiny policy: refunds up to 100 need one approver, larger ones two from finance (not the
// requester); reading orders has no rule at all (default deny) unless a grant covers it.
const policy: PolicyEngine = {
  name: 'example',
  evaluate(request: ToolRequest): Decision {
    if (request.tool.name === 'payments.refund') {
      const amount = Number(request.args.amount);
      return amount <= 100
        ? { type: 'ask', rules: ['refund-small'], reason: 'refunds need a human' }
        : {
            type: 'ask',
            rules: ['refund-large'],
            reason: 'large refunds need two people from finance',
            approval: { quorum: 2, approvers: ['finance:*'], separationOfDuties: true },
          };
    }
    return { type: 'deny', rules: [], code: 'NO_MATCHING_RULE', reason: 'no rule allows this call' };
  },
};

// Scripted humans: each answer is chosen from what the approver is shown.
const script: ((request: ApprovalRequest) => ApprovalResponse)[] = [
  (r) => ({ requestId: r.id, approved: true, approver: 'support:ann' }),
  (r) => ({ requestId: r.id, approved: true, approver: 'support:ann', args: { orderId: 'o-2', amount: 20 } }),
  (r) => ({ requestId: r.id, approved: true, approver: 'finance:bob' }),
  (r) => ({ requestId: r.id, approved: true, approver: 'finance:cid' }),
  (r) => ({
    requestId: r.id,
    approved: true,
    approver: 'support:ann',
    remember: { for: '1h', scope: { args: 'any' } },
  }),
];
const approver = callbackApprover((request) => {
  const who = request.approvedBy?.length ? ` (already approved by ${request.approvedBy.join(', ')})` : '';
  console.log(`  ? ${request.tool} ${JSON.stringify(request.args)}: ${request.reason}${who}`);
  const answer = script.shift();
  return answer
    ? answer(request)
    : { requestId: request.id, approved: false, approver: 'nobody', reason: 'no one left' };
});

const store = memoryStore();
const audit = memoryAudit();
const tg = createGuard({ policy, approver, audit, store, onDeny: 'return' });
const refund = tg.guard(
  (args: { orderId: string; amount: number }) => `refunded ${args.amount} on ${args.orderId}`,
  { name: 'payments.refund' },
);
const readOrders = tg.guard((args: { orderId: string }) => ({ orderId: args.orderId, status: 'shipped' }), {
  name: 'db.orders.read',
});
const as = { context: { agent: 'support-bot', principal: 'user:42' } };
const show = (result: unknown) =>
  typeof result === 'object' && result !== null && 'denied' in result
    ? `denied (${(result as unknown as { code: string }).code})`
    : JSON.stringify(result);

console.log('1. approve');
console.log('  →', await refund({ orderId: 'o-1', amount: 40 }, as));
console.log('2. edit then approve (the edited args are validated and decided again)');
console.log('  →', await refund({ orderId: 'o-2', amount: 90 }, as));
console.log('3. quorum: two distinct approvers from finance');
console.log('  →', await refund({ orderId: 'o-3', amount: 500 }, as));
console.log('4. remember for 1h, any args: the approval becomes a grant');
console.log('  →', await refund({ orderId: 'o-4', amount: 10 }, as));
console.log('  → another small refund, no one asked:', await refund({ orderId: 'o-5', amount: 15 }, as));
console.log("  → a grant never lowers the bar: ann's grant cannot stand in for two people from finance");
console.log('   ', show(await refund({ orderId: 'o-6', amount: 600 }, as)));

console.log('5. grants issued up front turn a default deny into allow');
console.log('  → before:', show(await readOrders({ orderId: 'o-9' }, as)));
await tg.grants.issue({
  tool: 'db.orders.read',
  principal: 'user:42',
  intent: 'ticket-123',
  maxUses: 2,
  reason: 'ticket 123',
  for: '2h',
});
const ticket = { context: { ...as.context, intent: 'ticket-123' } };
console.log('  → with the grant:', show(await readOrders({ orderId: 'o-9' }, ticket)));
console.log('  → other intent:', show(await readOrders({ orderId: 'o-9' }, as)));
console.log(
  `  grants: ${(await tg.grants.list()).map((g) => `${g.id} ${g.tool} uses ${g.uses}/${g.maxUses ?? '∞'}`).join('; ')}`,
);
// Revoke both, so the queue below is asked (ann's grant would answer its small refund).
for (const live of await tg.grants.list()) await tg.grants.revoke(live.id);

// 6. A queue: pending approvals live in the store; a web app, chat bot or `toolgate approvals`
// (another process, with a shared store such as Redis) lists and answers them.
console.log('6. queue approver');
const secret = 'example-secret-of-at-least-32-bytes!!';
const queued = createGuard({
  policy,
  store,
  approver: queueApprover({ store, secret, pollMs: 50 }),
  onDeny: 'return',
});
const queuedRefund = queued.guard((args: { amount: number }) => `refunded ${args.amount}`, {
  name: 'payments.refund',
});
const pending = queuedRefund({ amount: 30 }, as);
const approvals = approvalQueue({ store, secret });
let list = await approvals.list();
while (list.length === 0) {
  await new Promise((resolve) => setTimeout(resolve, 10));
  list = await approvals.list();
}
console.log(
  `  pending: ${list.map((p) => `${p.id} ${p.request.tool} ${JSON.stringify(p.request.args)}`).join('; ')}`,
);
await approvals.resolve(list[0]!.id, { approved: true, approver: 'support:dan' });
console.log('  →', await pending);

console.log('\naudit trail:');
for (const event of audit.events) {
  const detail =
    event.type === 'decision'
      ? `${event.decision}${event.code ? ` ${event.code}` : ''}${event.approvers ? ` by ${event.approvers.join('+')}` : ''}`
      : event.type === 'approval-response'
        ? `${event.approved ? 'approved' : 'refused'} by ${event.approver}${event.edited ? ' (edited)' : ''}`
        : event.type === 'grant-used'
          ? `${event.grantId} from ${event.issuedBy}${event.approval ? ` (approved by ${event.approval.approvedBy.join('+')})` : ''}`
          : '';
  console.log(`  ${event.type.padEnd(17)} ${(event.tool ?? '').padEnd(16)} ${detail}`);
}
await tg.close();
await queued.close();
