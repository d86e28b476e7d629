import { describe, expect, it } from 'vitest';
import { memoryAudit } from '../../src/audit/memory.ts';
import { createGuard } from '../../src/guard.ts';
import { rules } from '../../src/policy/rules.ts';
import type { PolicyEngine } from '../../src/policy/types.ts';
import { fakeClock } from '../../src/testing/fakes.ts';
import type { Decision } from '../../src/types.ts';
import { testStores } from '../store/stores.ts';

// What changed while a human decided is checked again before the approved call runs: the kill
// switch, and the policy's decision at the time the call would run (a deny wins).

function gatedApprover() {
  let open!: () => void;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let asked = 0;
  const approver = {
    name: 'human',
    request: async (request: { id: string }) => {
      asked += 1;
      await gate;
      return { requestId: request.id, approved: true as const, approver: 'user:ops' };
    },
  };
  return { approver, open, asked: () => asked };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 20));

const stores = await testStores('rv5:after-wait');

describe.each(stores)('after the approval wait (%s store)', (_name, makeStore) => {
  it('a suspension set during the wait stops the approved call, and is recorded', async () => {
    const { approver, open } = gatedApprover();
    const audit = memoryAudit();
    const tg = createGuard({
      policy: rules([{ id: 'pay', effect: 'ask', tool: 'payments.refund' }]),
      approver,
      audit,
      store: makeStore(),
      onDeny: 'return',
    });
    let ran = 0;
    const refund = tg.guard(
      async () => {
        ran += 1;
        return 'refunded';
      },
      { name: 'payments.refund' },
    );
    const pending = refund({ amount: 5 }, { context: { agent: 'support-bot' } });
    await tick();
    await tg.suspend({ agent: 'support-bot', reason: 'incident' });
    open();
    expect(await pending).toMatchObject({ denied: true, code: 'SUSPENDED' });
    expect(ran).toBe(0);
    expect(audit.events.filter((e) => e.type === 'decision')).toMatchObject([
      { decision: 'deny', code: 'SUSPENDED' },
    ]);
  });

  it('a concurrency slot held through the wait is given back when the call is stopped', async () => {
    const { approver, open } = gatedApprover();
    const tg = createGuard({
      policy: {
        name: 'p',
        evaluate: () =>
          ({
            type: 'ask',
            rules: ['r'],
            reason: 'x',
            limits: [{ rule: 'r', limits: { concurrency: 1 } }],
          }) as Decision,
      },
      approver,
      store: makeStore(),
      onDeny: 'return',
    });
    const tool = tg.guard(async () => 'ran', { name: 't' });
    const pending = tool({}, { context: { agent: 'a' } });
    await tick();
    await tg.suspend({ agent: 'a' });
    open();
    expect(await pending).toMatchObject({ code: 'SUSPENDED' });
    await tg.resume({ agent: 'a' });
    await tick();
    expect(await tool({}, { context: { agent: 'a' } })).toBe('ran');
  });
});

describe('after the approval wait, the policy decides again', () => {
  it('a schedule window that closed during the wait denies', async () => {
    const clock = fakeClock(Date.parse('2026-03-02T17:59:30Z'));
    const { approver, open } = gatedApprover();
    const audit = memoryAudit();
    const tg = createGuard({
      now: clock.now,
      approver,
      audit,
      onDeny: 'return',
      policy: rules([
        {
          id: 'pay',
          effect: 'ask',
          tool: 'payments.refund',
          schedule: { hours: '08:00-18:00', tz: 'UTC' },
        },
      ]),
    });
    let ran = false;
    const refund = tg.guard(
      async () => {
        ran = true;
        return 'refunded';
      },
      { name: 'payments.refund' },
    );
    const pending = refund({ amount: 5 });
    await tick();
    clock.advance(4 * 60_000);
    open();
    expect(await pending).toMatchObject({ denied: true, code: 'NO_MATCHING_RULE' });
    expect(ran).toBe(false);
    expect(audit.events.filter((e) => e.type === 'decision')).toMatchObject([{ decision: 'deny' }]);
  });

  it('an ask again does not need a second approval', async () => {
    const { approver, open, asked } = gatedApprover();
    let evaluations = 0;
    const policy: PolicyEngine = {
      name: 'p',
      evaluate: () => {
        evaluations += 1;
        return { type: 'ask', rules: ['r'], reason: 'x' } as Decision;
      },
    };
    const tg = createGuard({ policy, approver, onDeny: 'return' });
    const pending = tg.guard(async () => 'ran', { name: 't' })({});
    await tick();
    open();
    expect(await pending).toBe('ran');
    expect(asked()).toBe(1);
    expect(evaluations).toBe(2);
  });

  it('a rule that denies now wins over the approval', async () => {
    const { approver, open } = gatedApprover();
    let denyNow = false;
    const policy: PolicyEngine = {
      name: 'p',
      evaluate: () =>
        (denyNow
          ? { type: 'deny', rules: ['freeze'], code: 'DENIED_BY_RULE', reason: 'change freeze' }
          : { type: 'ask', rules: ['r'], reason: 'x' }) as Decision,
    };
    const tg = createGuard({ policy, approver, onDeny: 'return' });
    let ran = false;
    const pending = tg.guard(
      async () => {
        ran = true;
      },
      { name: 't' },
    )({});
    await tick();
    denyNow = true;
    open();
    expect(await pending).toMatchObject({ denied: true, code: 'DENIED_BY_RULE' });
    expect(ran).toBe(false);
  });
});
