// G15: a remembered approval never lets its approver run their own calls on the grant, unless the
// approver approved a call of their own and the grant is kept to them.
import { describe, expect, it } from 'vitest';
import {
  type ApprovalRequest,
  type ApprovalResponse,
  callbackApprover,
  memoryStore,
  type RememberOptions,
} from '../../src/index.ts';
import { ask, engine, ofType, setup } from './helpers.ts';

/** Approves the first ask as `approver` with `remember`, refuses every later one (so a later run is a grant's). */
function firstApprovedBy(approver: string, remember: RememberOptions) {
  const asked: ApprovalRequest[] = [];
  const provider = callbackApprover((request): ApprovalResponse => {
    asked.push(request);
    return asked.length === 1
      ? { requestId: request.id, approved: true, approver, remember }
      : { requestId: request.id, approved: false, approver: 'nobody', reason: 'asked again' };
  });
  return { asked, provider };
}

const wide: RememberOptions = { for: '1h', scope: { principal: 'any', agent: 'any', args: 'any' } };

describe("a remembered approval and the approver's own calls", () => {
  it("approving someone else's call does not answer the approver's own call, as principal or agent", async () => {
    const { asked, provider } = firstApprovedBy('finance:alice', wide);
    const { tg, audit } = setup({
      policy: engine(() => ask({ approvers: ['finance:*'] })),
      approver: provider,
    });
    const wire = tg.guard(() => 'sent', { name: 'payments.wire' });
    await expect(wire({ to: 'a' }, { context: { principal: 'user:carl', agent: 'bot' } })).resolves.toBe(
      'sent',
    );
    // Carl's (and anyone else's) later calls are answered by the grant…
    await expect(wire({ to: 'b' }, { context: { principal: 'user:dan', agent: 'bot' } })).resolves.toBe(
      'sent',
    );
    expect(asked).toHaveLength(1);
    // …but never Alice's own, whoever she acts as: she is asked again (and here refused).
    const own = { context: { principal: 'finance:alice', agent: 'bot' } };
    expect((await tg.check('payments.wire', { to: 'evil' }, own.context)).type).toBe('ask');
    await expect(wire({ to: 'evil' }, own)).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
    await expect(
      wire({ to: 'evil' }, { context: { principal: 'user:dan', agent: 'finance:alice' } }),
    ).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
    // Unicode forms do not make her someone else.
    await expect(
      wire({ to: 'evil' }, { context: { principal: 'finance:alice'.normalize('NFD') } }),
    ).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
    expect(asked).toHaveLength(4);
    expect(ofType(audit.events, 'grant-used')).toHaveLength(1);
  });

  it('holds without any requirement in the policy (no approvers, no separation of duties)', async () => {
    const { provider } = firstApprovedBy('user:7', wide);
    const { tg } = setup({ policy: engine(() => ask()), approver: provider });
    const tool = tg.guard(() => 'ran', { name: 't' });
    await expect(tool({}, { context: { principal: 'user:1' } })).resolves.toBe('ran');
    await expect(tool({}, { context: { principal: 'user:7' } })).resolves.toMatchObject({
      code: 'APPROVAL_DENIED',
    });
  });

  it('an approver who remembered a call of their own keeps it for that call', async () => {
    const { asked, provider } = firstApprovedBy('user:7', { for: '1h', scope: { args: 'any' } });
    const { tg } = setup({ policy: engine(() => ask()), approver: provider });
    const tool = tg.guard(() => 'ran', { name: 't' });
    const mine = { context: { principal: 'user:7', agent: 'bot' } };
    await expect(tool({ n: 1 }, mine)).resolves.toBe('ran');
    await expect(tool({ n: 2 }, mine)).resolves.toBe('ran');
    expect(asked).toHaveLength(1);
    // Widened to any principal, it is no longer kept to them: their own calls are asked again.
    const widened = firstApprovedBy('user:7', wide);
    const other = setup({ policy: engine(() => ask()), approver: widened.provider });
    const t2 = other.tg.guard(() => 'ran', { name: 't' });
    await expect(t2({ n: 1 }, mine)).resolves.toBe('ran');
    await expect(t2({ n: 2 }, mine)).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
    await expect(t2({ n: 3 }, { context: { principal: 'user:8', agent: 'bot' } })).resolves.toBe('ran');
  });

  it("a grant stored before grants carried their approval never answers its approver's own call", async () => {
    const store = memoryStore();
    const now = Date.now();
    await store.put(
      'grants:t:t',
      'g_old',
      { v: 1, tool: 't', exact: true, issuedAt: now, expiresAt: now + 3_600_000, issuedBy: 'user:7' },
      { now, ttlMs: 3_600_000 },
    );
    const { tg } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover((r) => ({ requestId: r.id, approved: false, approver: 'x', reason: 'no' })),
      store,
    });
    const tool = tg.guard(() => 'ran', { name: 't' });
    await expect(tool({}, { context: { principal: 'user:1' } })).resolves.toBe('ran');
    await expect(tool({}, { context: { principal: 'user:7' } })).resolves.toMatchObject({
      code: 'APPROVAL_DENIED',
    });
  });
});
