// Approval and grant overhead: an `ask` answered in process (autoApprove), an `ask` covered by a
// remembered grant among 10 / 1,000 grants for other tools, a default deny turned into allow by a
// grant, and signing / verifying an approval token (channels that leave the process).
import { signApprovalResponse, verifyApprovalResponse } from '../src/approval/token.ts';
import {
  autoApprove,
  createGuard,
  type Decision,
  memoryAudit,
  memoryStore,
  type PolicyEngine,
} from '../src/index.ts';
import { type BenchRow, time } from './harness.ts';

const args = { orderId: 'o-4711', amount: 250 };
const ASK: Decision = { type: 'ask', rules: ['refund'], reason: 'refunds need a human' };
const NO_RULE: Decision = { type: 'deny', rules: [], code: 'NO_MATCHING_RULE', reason: 'no rule' };
const policy = (decision: Decision): PolicyEngine => ({ name: 'fixed', evaluate: () => decision });

async function refund(input: { amount: number }) {
  return input.amount;
}

async function withGrants(decision: Decision, others: number) {
  const tg = createGuard({
    policy: policy(decision),
    audit: memoryAudit({ limit: 1000 }),
    store: memoryStore(),
    defaults: { approvalsPerMinute: 1e9, maxPendingApprovals: 1e6 },
  });
  for (let i = 0; i < others; i++) await tg.grants.issue({ tool: `tool-${i}`, for: '1d' });
  await tg.grants.issue({ tool: 'payments.refund', for: '1d' });
  return tg.guard(refund, { name: 'payments.refund' });
}

export default async function approvals(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const asked = createGuard({
    policy: policy(ASK),
    approver: autoApprove(),
    audit: memoryAudit({ limit: 1000 }),
    defaults: { approvalsPerMinute: 1e9, maxPendingApprovals: 1e6 },
  }).guard(refund, { name: 'payments.refund' });
  const granted10 = await withGrants(ASK, 10);
  const granted1000 = await withGrants(ASK, 1000);
  const defaultDeny = await withGrants(NO_RULE, 10);
  for (const fn of [asked, granted10, granted1000, defaultDeny]) {
    if ((await fn(args)) !== 250) throw new Error('benchmark call did not allow');
  }
  rows.push(await time('approval.ask.autoApprove', () => asked(args)));
  rows.push(await time('grant.ask.10-grants', () => granted10(args)));
  rows.push(await time('grant.ask.1000-grants', () => granted1000(args)));
  rows.push(await time('grant.default-deny.10-grants', () => defaultDeny(args)));

  const secret = 's'.repeat(32);
  const binding = {
    requestId: 'r',
    callId: 'c',
    tool: 'payments.refund',
    argsHash: 'a'.repeat(64),
    principal: 'user:42',
    policyVersion: null,
    expiresAt: 1,
  };
  const response = { requestId: 'r', approved: true as const, approver: 'user:7' };
  const token = signApprovalResponse(binding, response, secret, 0);
  rows.push(await time('token.sign', () => signApprovalResponse(binding, response, secret, 0)));
  rows.push(await time('token.verify', () => verifyApprovalResponse(token, secret, { now: 0, maxAgeMs: 1 })));
  return rows;
}
