import { describe, expect, it } from 'vitest';
import {
  type ApprovalResponse,
  ConfigurationError,
  callbackApprover,
  type Decision,
  hashJson,
  memoryStore,
  type StateStore,
} from '../../src/index.ts';
import { fakeClock } from '../../src/testing/fakes.ts';
import { ask, engine, ofType, setup, spy } from './helpers.ts';

const NO_RULE: Decision = {
  type: 'deny',
  rules: [],
  code: 'NO_MATCHING_RULE',
  reason: 'no rule allows this call',
};
const DENY_RULE: Decision = { type: 'deny', rules: ['no'], code: 'DENIED_BY_RULE', reason: 'forbidden' };

describe('tg.grants', () => {
  it('a grant turns a default deny into allow and records grant-used on each use', async () => {
    const clock = fakeClock(0);
    const { tg, audit } = setup({ policy: engine(() => NO_RULE), now: clock.now });
    const tool = spy();
    const query = tg.guard(tool.fn, { name: 'db.query' });
    await expect(query({ sql: 'select 1' })).resolves.toMatchObject({ code: 'NO_MATCHING_RULE' });
    const grant = await tg.grants.issue({
      tool: 'db.query',
      principal: 'user:42',
      reason: 'ticket 123',
      for: '2h',
    });
    expect(grant).toMatchObject({
      tool: 'db.query',
      principal: 'user:42',
      issuedBy: 'host',
      expiresAt: 7_200_000,
    });
    await expect(query({ sql: 'select 1' }, { context: { principal: 'user:42' } })).resolves.toBe('ran');
    await expect(query({ sql: 'select 2' }, { context: { principal: 'user:42' } })).resolves.toBe('ran');
    await expect(query({ sql: 'select 1' }, { context: { principal: 'user:43' } })).resolves.toMatchObject({
      code: 'NO_MATCHING_RULE',
    });
    await expect(query({ sql: 'select 1' })).resolves.toMatchObject({ code: 'NO_MATCHING_RULE' });
    const used = ofType(audit.events, 'grant-used');
    expect(used).toHaveLength(2);
    expect(used[0]).toMatchObject({ grantId: grant.id, tool: 'db.query', principal: 'user:42' });
    expect(ofType(audit.events, 'decision')[1]).toMatchObject({
      decision: 'allow',
      policyDecision: 'deny',
      reason: expect.stringContaining(grant.id),
    });
    expect(tool.calls).toHaveLength(2);
  });

  it('never overrides a deny rule', async () => {
    const { tg, audit } = setup({ policy: engine(() => DENY_RULE) });
    await tg.grants.issue({ tool: '*', for: '1h' });
    await expect(tg.guard(() => 1, { name: 'x' })({})).resolves.toMatchObject({ code: 'DENIED_BY_RULE' });
    expect(ofType(audit.events, 'grant-used')).toHaveLength(0);
  });

  it('turns an ask into allow without asking, keeping the ask rules', async () => {
    let asked = 0;
    const { tg, audit } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover((r) => {
        asked += 1;
        return { requestId: r.id, approved: false, approver: 'x', reason: 'no' };
      }),
    });
    await tg.grants.issue({ tool: 't', agent: 'support-*', for: '1h' });
    const call = tg.guard(() => 1, { name: 't' });
    await expect(call({}, { context: { agent: 'support-bot' } })).resolves.toBe(1);
    expect(asked).toBe(0);
    expect(ofType(audit.events, 'decision')[0]).toMatchObject({
      rules: ['needs-human'],
      policyDecision: 'ask',
    });
    await expect(call({}, { context: { agent: 'sales-bot' } })).resolves.toMatchObject({
      code: 'APPROVAL_DENIED',
    });
    expect(asked).toBe(1);
  });

  it('expires, and can be revoked and listed', async () => {
    const clock = fakeClock(0);
    const { tg } = setup({ policy: engine(() => NO_RULE), now: clock.now });
    const call = tg.guard(() => 1, { name: 't' });
    const a = await tg.grants.issue({ tool: 't', intent: 'ticket-1', for: '1m' });
    const b = await tg.grants.issue({ tool: 't', intent: 'ticket-2', until: new Date(600_000) });
    expect((await tg.grants.list()).map((g) => g.id).sort()).toEqual([a.id, b.id].sort());
    await expect(call({}, { context: { intent: 'ticket-1' } })).resolves.toBe(1);
    clock.advance(60_000);
    await expect(call({}, { context: { intent: 'ticket-1' } })).resolves.toMatchObject({
      code: 'NO_MATCHING_RULE',
    });
    expect((await tg.grants.list()).map((g) => g.id)).toEqual([b.id]);
    await expect(call({}, { context: { intent: 'ticket-2' } })).resolves.toBe(1);
    expect(await tg.grants.revoke(b.id)).toBe(true);
    expect(await tg.grants.revoke(b.id)).toBe(false);
    await expect(call({}, { context: { intent: 'ticket-2' } })).resolves.toMatchObject({
      code: 'NO_MATCHING_RULE',
    });
  });

  it('maxUses holds under 100 concurrent calls', async () => {
    const { tg, audit } = setup({ policy: engine(() => NO_RULE) });
    await tg.grants.issue({ tool: 't', maxUses: 10, for: '1h' });
    const tool = spy();
    const call = tg.guard(async (args: unknown) => tool.fn(args), { name: 't' });
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => call({ i })));
    expect(results.filter((r) => r === 'ran')).toHaveLength(10);
    expect(tool.calls).toHaveLength(10);
    expect(ofType(audit.events, 'grant-used')).toHaveLength(10);
    expect((await tg.grants.list())[0]).toMatchObject({ uses: 10, maxUses: 10 });
  });

  it('argsHash binds a grant to exact arguments', async () => {
    const { tg } = setup({ policy: engine(() => NO_RULE) });
    await tg.grants.issue({ tool: 't', argsHash: hashJson({ id: 1 }), for: '1h' });
    const call = tg.guard(() => 1, { name: 't' });
    await expect(call({ id: 1 })).resolves.toBe(1);
    await expect(call({ id: 2 })).resolves.toMatchObject({ code: 'NO_MATCHING_RULE' });
  });

  it('conditions (when) allow only when definitely true', async () => {
    const { tg } = setup({ policy: engine(() => NO_RULE) });
    await tg.grants.issue({ tool: 'db.query', when: { 'args.table': { eq: 'orders' } }, for: '1h' });
    await tg.grants.issue({
      tool: 'db.other',
      when: {
        all: [
          () => {
            throw new Error('boom');
          },
        ],
      },
      for: '1h',
    });
    const query = tg.guard(() => 1, { name: 'db.query' });
    await expect(query({ table: 'orders' })).resolves.toBe(1);
    await expect(query({ table: 'customers' })).resolves.toMatchObject({ code: 'NO_MATCHING_RULE' });
    await expect(query({})).resolves.toMatchObject({ code: 'NO_MATCHING_RULE' }); // indeterminate
    await expect(tg.guard(() => 1, { name: 'db.other' })({})).resolves.toMatchObject({
      code: 'NO_MATCHING_RULE',
    });
  });

  it('code conditions stay in the issuing process: another guard on the same store cannot use them', async () => {
    const store = memoryStore();
    const one = setup({ policy: engine(() => NO_RULE), store });
    const two = setup({ policy: engine(() => NO_RULE), store });
    await one.tg.grants.issue({
      tool: 't',
      when: { all: [(r: { args: { x?: unknown } }) => r.args.x === 1] },
      for: '1h',
    });
    await one.tg.grants.issue({ tool: 'u', when: { 'args.x': { eq: 1 } }, for: '1h' });
    await expect(one.tg.guard(() => 1, { name: 't' })({ x: 1 })).resolves.toBe(1);
    await expect(two.tg.guard(() => 1, { name: 't' })({ x: 1 })).resolves.toMatchObject({
      code: 'NO_MATCHING_RULE',
    });
    // JSON conditions travel through the store.
    await expect(two.tg.guard(() => 1, { name: 'u' })({ x: 1 })).resolves.toBe(1);
    await expect(two.tg.guard(() => 1, { name: 'u' })({ x: 2 })).resolves.toMatchObject({
      code: 'NO_MATCHING_RULE',
    });
  });

  it('check() sees grants without using them up', async () => {
    const { tg } = setup({ policy: engine(() => NO_RULE) });
    tg.guard(() => 1, { name: 't' });
    await tg.grants.issue({ tool: 't', maxUses: 1, for: '1h' });
    await expect(tg.check('t', {})).resolves.toMatchObject({ type: 'allow' });
    await expect(tg.check('t', {})).resolves.toMatchObject({ type: 'allow' });
    expect((await tg.grants.list())[0]!.uses).toBe(0);
  });

  it('issue() refuses unknown keys and grants that never expire', async () => {
    const { tg } = setup({ policy: engine(() => NO_RULE) });
    await expect(tg.grants.issue({ tool: 't', for: '1h', scope: 'all' } as never)).rejects.toBeInstanceOf(
      ConfigurationError,
    );
    await expect(tg.grants.issue({ tool: 't' })).rejects.toThrow(/expire/);
    await expect(tg.grants.issue({ tool: 't', for: '1h', maxUses: 0 })).rejects.toThrow(/maxUses/);
    await expect(tg.grants.issue({ tool: '', for: '1h' })).rejects.toThrow(/tool/);
    await expect(tg.grants.issue({ tool: 't', until: 0 })).rejects.toThrow(/expired/);
    await expect(
      tg.grants.issue({ tool: 't', for: '1h', when: { 'args.x': { bogus: 1 } } as never }),
    ).rejects.toThrow();
    expect(await tg.grants.list()).toEqual([]);
  });

  it('a failing store denies (STORE_UNAVAILABLE) instead of allowing or skipping', async () => {
    const base = memoryStore();
    const broken: StateStore = {
      ...base,
      name: 'broken',
      list: () => {
        throw new Error('down');
      },
    };
    const { tg } = setup({ policy: engine(() => NO_RULE), store: broken });
    await expect(tg.guard(() => 1, { name: 't' })({})).resolves.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    const slow: StateStore = { ...base, name: 'slow', list: () => new Promise(() => {}) };
    const second = setup({
      policy: engine(() => NO_RULE),
      store: slow,
      defaults: { storeTimeout: 20 } as never,
    });
    await expect(second.tg.guard(() => 1, { name: 't' })({})).resolves.toMatchObject({
      code: 'STORE_UNAVAILABLE',
    });
  });

  it('a malformed record in the store grants nothing', async () => {
    const store = memoryStore();
    await store.put('grants:glob', 'g_evil', { v: 1, tool: '*', exact: 'yes' } as never, { now: Date.now() });
    await store.put('grants:t:t', 'g_evil2', { tool: 't' }, { now: Date.now() });
    await store.put(
      'grants:t:t',
      'g_evil3',
      { v: 1, tool: 't', exact: true, issuedAt: 0, expiresAt: 'never', issuedBy: 'x' },
      { now: Date.now() },
    );
    const { tg } = setup({ policy: engine(() => NO_RULE), store });
    await expect(tg.guard(() => 1, { name: 't' })({})).resolves.toMatchObject({ code: 'NO_MATCHING_RULE' });
  });
});

describe('remembered approvals become grants', () => {
  const remembering =
    (remember: Record<string, unknown>, approver = 'user:7') =>
    (r: { id: string }) =>
      ({ requestId: r.id, approved: true, approver, remember }) as unknown as ApprovalResponse;

  it('without scope: same tool, agent, principal and args; expires after `for`', async () => {
    const clock = fakeClock(0);
    let asked = 0;
    const { tg, audit } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover((r) => {
        asked += 1;
        return asked === 1
          ? remembering({ for: '1h' })(r)
          : { requestId: r.id, approved: false, approver: 'x', reason: 'asked again' };
      }),
      now: clock.now,
    });
    const call = tg.guard(() => 1, { name: 't' });
    const ctx = { context: { agent: 'bot', principal: 'user:42' } };
    await expect(call({ a: 1 }, ctx)).resolves.toBe(1);
    const [grant] = await tg.grants.list();
    expect(grant).toMatchObject({
      tool: 't',
      agent: 'bot',
      principal: 'user:42',
      argsHash: hashJson({ a: 1 }),
      issuedBy: 'user:7',
      expiresAt: 3_600_000,
    });
    await expect(call({ a: 1 }, ctx)).resolves.toBe(1);
    expect(asked).toBe(1);
    expect(ofType(audit.events, 'grant-used')).toHaveLength(1);
    await expect(call({ a: 2 }, ctx)).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
    await expect(call({ a: 1 }, { context: { agent: 'bot', principal: 'user:43' } })).resolves.toMatchObject({
      code: 'APPROVAL_DENIED',
    });
    await expect(
      call({ a: 1 }, { context: { agent: 'other', principal: 'user:42' } }),
    ).resolves.toMatchObject({
      code: 'APPROVAL_DENIED',
    });
    clock.advance(3_600_000);
    await expect(call({ a: 1 }, ctx)).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
  });

  it('scope args: any with maxUses', async () => {
    const { tg } = setup({
      policy: engine(() => ask()),
      approver: callbackApprover((r) =>
        r.args.first === true
          ? remembering({ for: '1h', maxUses: 2, scope: { args: 'any' } })(r)
          : { requestId: r.id, approved: false, approver: 'x', reason: 'no' },
      ),
    });
    const call = tg.guard(() => 1, { name: 't' });
    await expect(call({ first: true })).resolves.toBe(1);
    await expect(call({ n: 1 })).resolves.toBe(1);
    await expect(call({ n: 2 })).resolves.toBe(1);
    await expect(call({ n: 3 })).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
  });

  it('a remembered grant for a self-approved call is not issued under a quorum', async () => {
    const names = ['a', 'b'];
    const { tg } = setup({
      policy: engine(() => ask({ quorum: 2 })),
      approver: callbackApprover((r) => remembering({ for: '1h' }, names.shift() ?? 'z')(r)),
    });
    await expect(tg.guard(() => 1, { name: 't' })({})).resolves.toBe(1);
    expect(await tg.grants.list()).toEqual([]);
  });

  it('a remembered grant never overrides a deny rule', async () => {
    let deny = false;
    const { tg } = setup({
      policy: engine(() => (deny ? DENY_RULE : ask())),
      approver: callbackApprover((r) => remembering({ for: '1h' })(r)),
    });
    const call = tg.guard(() => 1, { name: 't' });
    await expect(call({})).resolves.toBe(1);
    deny = true;
    await expect(call({})).resolves.toMatchObject({ code: 'DENIED_BY_RULE' });
  });
});
