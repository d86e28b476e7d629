import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/backends/redis/index.ts';
import {
  type ApprovalRequest,
  type ApprovalResponse,
  callbackApprover,
  type Decision,
  memoryStore,
  type Rule,
  rules,
  type StateStore,
} from '../../src/index.ts';
import { fakeClock } from '../../src/testing/fakes.ts';
import { deleteKeys, newClient, redisSkipReason, uniquePrefix } from '../store/redis-env.ts';
import { ask, engine, ofType, setup, spy } from './helpers.ts';

// G15: a grant never lowers the bar. Each case runs on the memory store and on real Redis.

const redisSkip = await redisSkipReason();
const clients: Redis[] = [];
const prefixes: string[] = [];

afterAll(async () => {
  for (const [i, client] of clients.entries()) {
    await deleteKeys(client, prefixes[i]!);
    client.disconnect();
  }
});

const STORES: [string, () => StateStore][] = [['memory', () => memoryStore()]];
if (redisSkip === undefined) {
  STORES.push([
    'redis',
    () => {
      const client = newClient();
      const prefix = uniquePrefix('grant-bar');
      clients.push(client);
      prefixes.push(prefix);
      return redisStore({ client, prefix });
    },
  ]);
}

const REFUND_RULES: Rule[] = [
  {
    id: 'refund-small',
    effect: 'ask',
    tool: 'payments.refund',
    when: { 'args.amount': { lte: 100 } },
  },
  {
    id: 'refund-large',
    effect: 'ask',
    tool: 'payments.refund',
    when: { 'args.amount': { gt: 100 } },
    approval: { quorum: 2, approvers: ['finance:*'], separationOfDuties: true },
  },
];

/** An approver that answers from a script and records every request it was asked. */
function scripted(answer: (request: ApprovalRequest, round: number) => Record<string, unknown>) {
  const asked: ApprovalRequest[] = [];
  const provider = callbackApprover((request) => {
    asked.push(request);
    return { requestId: request.id, ...answer(request, asked.length) } as ApprovalResponse;
  });
  return { asked, provider };
}

const refuse = { approved: false, approver: 'finance:nobody', reason: 'asked again' };

describe.each(STORES)('a grant never lowers the bar (%s store)', (_name, makeStore) => {
  it('finding 5: a remembered approval of a small refund (args any) does not answer a refund that needs a finance quorum', async () => {
    const { asked, provider } = scripted((_request, round) =>
      round === 1
        ? { approved: true, approver: 'user:7', remember: { for: '1h', scope: { args: 'any' } } }
        : refuse,
    );
    const { tg, audit } = setup({ policy: rules(REFUND_RULES), approver: provider, store: makeStore() });
    const tool = spy();
    const refund = tg.guard(tool.fn, { name: 'payments.refund' });
    const ctx = { context: { agent: 'bot', principal: 'user:1' } };
    await expect(refund({ amount: 20 }, ctx)).resolves.toBe('ran');
    // The grant still answers what its approver could approve again: another small refund.
    await expect(refund({ amount: 30 }, ctx)).resolves.toBe('ran');
    expect(asked).toHaveLength(1);
    // The large refund needs two finance approvers: the grant of user:7 cannot stand in for them.
    await expect(refund({ amount: 5000 }, ctx)).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
    expect(asked).toHaveLength(2);
    expect(asked[1]!.requirements).toMatchObject({ quorum: 2 });
    expect(tool.calls).toEqual([{ amount: 20 }, { amount: 30 }]);
    expect(ofType(audit.events, 'grant-used')).toHaveLength(1);
  });

  it('finding 5: with principal any, the approver cannot later run the protected call as principal', async () => {
    const policy = rules([
      {
        id: 'transfer',
        effect: 'ask',
        tool: 'payments.transfer',
        approval: { separationOfDuties: true },
      },
    ]);
    const { asked, provider } = scripted((_request, round) =>
      round === 1
        ? {
            approved: true,
            approver: 'finance:alice',
            remember: { for: '1h', scope: { principal: 'any', agent: 'any', args: 'any' } },
          }
        : refuse,
    );
    const { tg } = setup({ policy, approver: provider, store: makeStore() });
    const tool = spy();
    const transfer = tg.guard(tool.fn, { name: 'payments.transfer' });
    await expect(transfer({ to: 'x' }, { context: { principal: 'user:1' } })).resolves.toBe('ran');
    await expect(transfer({ to: 'y' }, { context: { principal: 'user:2' } })).resolves.toBe('ran');
    expect(asked).toHaveLength(1);
    // alice's own call: separation of duties is checked against the current principal.
    await expect(
      transfer({ to: 'alice' }, { context: { principal: 'finance:alice' } }),
    ).resolves.toMatchObject({
      code: 'APPROVAL_DENIED',
    });
    expect(asked).toHaveLength(2);
    expect(tool.calls).toHaveLength(2);
    // check() agrees with the call: still an ask for alice, allowed for someone else.
    await expect(
      tg.check('payments.transfer', { to: 'alice' }, { principal: 'finance:alice' }),
    ).resolves.toMatchObject({ type: 'ask' });
    await expect(tg.check('payments.transfer', { to: 'z' }, { principal: 'user:3' })).resolves.toMatchObject({
      type: 'allow',
    });
  });

  it('a remembered grant answers an ask with approver globs only if its approver matches them', async () => {
    let requirement: Extract<Decision, { type: 'ask' }>['approval'] = {};
    const { asked, provider } = scripted((_request, round) =>
      round === 1
        ? { approved: true, approver: 'ops:carol', remember: { for: '1h', scope: { args: 'any' } } }
        : refuse,
    );
    const { tg } = setup({ policy: engine(() => ask(requirement)), approver: provider, store: makeStore() });
    const call = tg.guard(() => 'ran', { name: 'deploy' });
    await expect(call({ n: 1 })).resolves.toBe('ran');
    requirement = { approvers: ['ops:*'] };
    await expect(call({ n: 2 })).resolves.toBe('ran');
    requirement = { approvers: ['finance:*', 'sec:*'] };
    await expect(call({ n: 3 })).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
    requirement = { quorum: 2 };
    await expect(call({ n: 4 })).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
    expect(asked).toHaveLength(3);
  });

  it('a remembered grant never turns a default deny into allow (a call no rule asks about)', async () => {
    const clock = fakeClock(Date.UTC(2026, 0, 5, 12));
    // Refunds are asked about during office hours only; outside them no rule matches.
    const policy = rules([
      {
        id: 'refund-office-hours',
        effect: 'ask',
        tool: 'payments.refund',
        schedule: { hours: '08:00-18:00', tz: 'UTC' },
      },
    ]);
    const { provider } = scripted(() => ({
      approved: true,
      approver: 'user:7',
      remember: { for: '12h', scope: { args: 'any' } },
    }));
    const { tg, audit } = setup({ policy, approver: provider, store: makeStore(), now: clock.now });
    const refund = tg.guard(() => 'ran', { name: 'payments.refund' });
    await expect(refund({ amount: 1 })).resolves.toBe('ran');
    clock.advance(8 * 3_600_000); // 20:00
    await expect(refund({ amount: 2 })).resolves.toMatchObject({ code: 'NO_MATCHING_RULE' });
    await expect(tg.check('payments.refund', { amount: 2 })).resolves.toMatchObject({
      code: 'NO_MATCHING_RULE',
    });
    expect(ofType(audit.events, 'grant-used')).toHaveLength(0);
  });

  it('host grants: a default deny or a plain ask, never an ask that names its approvers', async () => {
    let decision: Decision = ask();
    const { asked, provider } = scripted(() => refuse);
    const { tg } = setup({ policy: engine(() => decision), approver: provider, store: makeStore() });
    await tg.grants.issue({ tool: 'db.*', principal: 'user:42', for: '1h' });
    const call = tg.guard(() => 'ran', { name: 'db.query' });
    const ctx = { context: { principal: 'user:42' } };
    await expect(call({}, ctx)).resolves.toBe('ran');
    decision = ask({ timeout: 60_000 });
    await expect(call({}, ctx)).resolves.toBe('ran');
    decision = { type: 'deny', rules: [], code: 'NO_MATCHING_RULE', reason: 'no rule' };
    await expect(call({}, ctx)).resolves.toBe('ran');
    for (const approval of [{ quorum: 2 }, { approvers: ['finance:*'] }, { separationOfDuties: true }]) {
      decision = ask(approval);
      await expect(call({}, ctx)).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
      await expect(tg.check('db.query', {}, ctx.context)).resolves.toMatchObject({ type: 'ask' });
    }
    expect(asked).toHaveLength(3);
  });

  it('grant-used names what the grant carried; list() shows the approval', async () => {
    const { provider } = scripted(() => ({
      approved: true,
      approver: 'finance:bob',
      remember: { for: '1h' },
    }));
    const { tg, audit } = setup({
      policy: engine(() => ask({ approvers: ['finance:*'], separationOfDuties: true })),
      approver: provider,
      store: makeStore(),
    });
    const call = tg.guard(() => 'ran', { name: 't' });
    await call({ a: 1 }, { context: { principal: 'user:1' } });
    await call({ a: 1 }, { context: { principal: 'user:1' } });
    const approval = {
      approvedBy: ['finance:bob'],
      quorum: 1,
      approvers: ['finance:*'],
      separationOfDuties: true,
    };
    const [grant] = await tg.grants.list();
    expect(grant).toMatchObject({ issuedBy: 'finance:bob', approval });
    expect(ofType(audit.events, 'grant-used')).toEqual([
      expect.objectContaining({ grantId: grant!.id, issuedBy: 'finance:bob', approval }),
    ]);
    const host = await tg.grants.issue({ tool: 'u', for: '1h' });
    expect(host).not.toHaveProperty('approval');
  });

  it('grants stored before they carried their approval are read safely', async () => {
    const store = makeStore();
    const now = Date.now();
    const legacy = (id: string, exact: boolean, tool: string) =>
      store.put(
        `grants:t:${tool}`,
        id,
        { v: 1, tool, exact, issuedAt: now, expiresAt: now + 3_600_000, issuedBy: exact ? 'user:7' : 'host' },
        { now, ttlMs: 3_600_000 },
      );
    await legacy('g_old_remembered', true, 'a');
    await legacy('g_old_host', false, 'b');
    let decision: Decision = ask();
    const { asked, provider } = scripted(() => refuse);
    const { tg } = setup({ policy: engine(() => decision), approver: provider, store });
    const a = tg.guard(() => 'a', { name: 'a' });
    const b = tg.guard(() => 'b', { name: 'b' });
    // A plain ask: any one approval meets it, so the old remembered grant may still answer it.
    await expect(a({})).resolves.toBe('a');
    decision = ask({ quorum: 2 });
    await expect(a({})).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
    decision = ask({ approvers: ['user:*'] });
    await expect(a({})).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
    decision = { type: 'deny', rules: [], code: 'NO_MATCHING_RULE', reason: 'no rule' };
    await expect(a({})).resolves.toMatchObject({ code: 'NO_MATCHING_RULE' });
    // An old host grant keeps its meaning.
    await expect(b({})).resolves.toBe('b');
    expect(asked).toHaveLength(2);
  });

  it('a remembered grant whose stored approval is malformed grants nothing', async () => {
    const store = makeStore();
    const now = Date.now();
    const base = {
      v: 2,
      tool: 't',
      exact: true,
      issuedAt: now,
      expiresAt: now + 3_600_000,
      issuedBy: 'user:7',
    };
    const bad = [
      { ...base, source: 'approval' },
      { ...base, source: 'approval', approval: { approvedBy: [], quorum: 1, separationOfDuties: false } },
      {
        ...base,
        source: 'approval',
        approval: { approvedBy: ['user:7\u200b'], quorum: 1, separationOfDuties: false },
      },
      {
        ...base,
        source: 'approval',
        approval: { approvedBy: ['a', 'a'], quorum: 1, separationOfDuties: false },
      },
      { ...base, source: 'approval', approval: { approvedBy: ['a'], quorum: 0, separationOfDuties: false } },
      { ...base, source: 'approval', approval: { approvedBy: ['a'], quorum: 1 } },
      { ...base, source: 'host', approval: { approvedBy: ['a'], quorum: 1, separationOfDuties: false } },
      { ...base, source: 'admin' },
      { ...base, v: 3, source: 'host' },
    ];
    for (const [i, value] of bad.entries()) await store.put('grants:t:t', `g_bad${i}`, value, { now });
    const { asked, provider } = scripted(() => refuse);
    const { tg } = setup({ policy: engine(() => ask()), approver: provider, store });
    await expect(tg.guard(() => 1, { name: 't' })({})).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
    expect(asked).toHaveLength(1);
  });
});
