import { describe, expect, it } from 'vitest';
import { callbackApprover, createGuard, type DecisionEvent, memoryAudit } from '../../src/index.ts';
import { ALLOW, ASK, engine, spyTool } from './helpers.ts';

async function decide(answer: unknown, policyTimeout: string | number = 50) {
  const audit = memoryAudit();
  const tg = createGuard({ policy: engine(answer), audit, onDeny: 'return', defaults: { policyTimeout } });
  const spy = spyTool();
  const result = await tg.guard(spy.fn, { name: 't' })({ a: 1 });
  return {
    result,
    ran: spy.calls.length,
    decisions: audit.events.filter((e) => e.type === 'decision') as DecisionEvent[],
  };
}

describe('G6 a faulty policy engine always denies', () => {
  const faults: [string, unknown, string][] = [
    [
      'throws',
      () => {
        throw new Error('boom');
      },
      'POLICY_ERROR',
    ],
    [
      'throws a non-error',
      () => {
        throw 'string';
      },
      'POLICY_ERROR',
    ],
    ['rejects', () => Promise.reject(new Error('boom')), 'POLICY_ERROR'],
    ['never settles', () => new Promise(() => {}), 'POLICY_TIMEOUT'],
    ['returns true', () => true, 'POLICY_ERROR'],
    ['returns "yes"', () => 'yes', 'POLICY_ERROR'],
    ['returns 1', () => 1, 'POLICY_ERROR'],
    ['returns null', () => null, 'POLICY_ERROR'],
    ['returns undefined', () => undefined, 'POLICY_ERROR'],
    ['returns a Promise of "allow"', () => Promise.resolve('allow'), 'POLICY_ERROR'],
    ['returns allow without rules', () => ({ type: 'allow' }), 'POLICY_ERROR'],
    ['returns allow with non-string rules', () => ({ type: 'allow', rules: [1] }), 'POLICY_ERROR'],
    ['returns type "ALLOW"', () => ({ type: 'ALLOW', rules: [] }), 'POLICY_ERROR'],
    ['returns type "permit"', () => ({ type: 'permit', rules: [] }), 'POLICY_ERROR'],
    [
      'returns deny with an unknown code',
      () => ({ type: 'deny', rules: [], code: 'NOPE', reason: 'x' }),
      'POLICY_ERROR',
    ],
    ['returns ask without a reason', () => ({ type: 'ask', rules: [] }), 'POLICY_ERROR'],
    [
      'returns a thenable whose then throws',
      () => ({
        // biome-ignore lint/suspicious/noThenProperty: a hostile thenable is the point of this case
        get then() {
          throw new Error('trap');
        },
      }),
      'POLICY_ERROR',
    ],
    [
      'returns an object whose type getter throws',
      () => ({
        rules: [],
        get type() {
          throw new Error('trap');
        },
      }),
      'POLICY_ERROR',
    ],
    [
      'returns an unsupported obligation',
      () => ({ type: 'allow', rules: ['r'], obligations: { launchMissiles: true } }),
      'POLICY_ERROR',
    ],
  ];
  for (const [name, answer, code] of faults) {
    it(`engine ${name} → deny ${code}; the tool never runs; one decision record`, async () => {
      const { result, ran, decisions } = await decide(answer);
      expect(result).toMatchObject({ denied: true, code });
      expect(ran).toBe(0);
      expect(decisions).toHaveLength(1);
      expect(decisions[0]).toMatchObject({ decision: 'deny', code });
    });
  }

  it('the engine gets an abort signal that fires on timeout', async () => {
    let signal: AbortSignal | undefined;
    await decide((_request: unknown, options: { signal: AbortSignal }) => {
      signal = options.signal;
      return new Promise(() => {});
    }, 20);
    expect(signal?.aborted).toBe(true);
  });

  it('an engine cannot change its decision after returning it', async () => {
    const decision = { type: 'allow', rules: ['r'] } as { type: string; rules: string[] };
    const audit = memoryAudit();
    const tg = createGuard({
      policy: engine(() => {
        setTimeout(() => {
          decision.type = 'deny';
        });
        return decision;
      }),
      audit,
    });
    const tool = tg.guard(async () => new Promise((resolve) => setTimeout(() => resolve('done'), 10)), {
      name: 't',
    });
    await expect(tool({})).resolves.toBe('done');
    expect((audit.events[0] as DecisionEvent).decision).toBe('allow');
  });
});

describe('approver faults always deny (core)', () => {
  const faults: [string, (request: { id: string }) => unknown, string][] = [
    [
      'throws',
      () => {
        throw new Error('boom');
      },
      'APPROVAL_ERROR',
    ],
    ['rejects', () => Promise.reject(new Error('boom')), 'APPROVAL_ERROR'],
    ['never answers', () => new Promise(() => {}), 'APPROVAL_TIMEOUT'],
    ['answers true', () => true, 'APPROVAL_INVALID'],
    ['answers "approved"', () => 'approved', 'APPROVAL_INVALID'],
    [
      'answers approved: "true"',
      (r) => ({ requestId: r.id, approved: 'true', approver: 'a' }),
      'APPROVAL_INVALID',
    ],
    ['answers approved: 1', (r) => ({ requestId: r.id, approved: 1, approver: 'a' }), 'APPROVAL_INVALID'],
    ['omits the approver', (r) => ({ requestId: r.id, approved: true }), 'APPROVAL_INVALID'],
    [
      'adds an unknown field (tool rename)',
      (r) => ({ requestId: r.id, approved: true, approver: 'a', tool: 'other' }),
      'APPROVAL_INVALID',
    ],
    [
      'denies without a reason',
      (r) => ({ requestId: r.id, approved: false, approver: 'a' }),
      'APPROVAL_INVALID',
    ],
    [
      'answers for another request',
      () => ({ requestId: 'other', approved: true, approver: 'a' }),
      'APPROVAL_MISMATCH',
    ],
    ['denies', (r) => ({ requestId: r.id, approved: false, approver: 'a', reason: 'no' }), 'APPROVAL_DENIED'],
  ];
  for (const [name, answer, code] of faults) {
    it(`approver ${name} → deny ${code}`, async () => {
      const audit = memoryAudit();
      const tg = createGuard({
        policy: engine(ASK),
        approver: callbackApprover(answer as never),
        audit,
        onDeny: 'return',
        defaults: { approvalTimeout: 30 },
      });
      const spy = spyTool();
      await expect(tg.guard(spy.fn, { name: 't' })({})).resolves.toMatchObject({ denied: true, code });
      expect(spy.calls).toHaveLength(0);
      expect(audit.events.map((e) => e.type)).toEqual(['approval-request', 'approval-response', 'decision']);
      expect(audit.events[1]).toMatchObject({ type: 'approval-response', code });
    });
  }

  it('a caller abort while waiting denies with CANCELLED', async () => {
    const tg = createGuard({
      policy: engine(ASK),
      approver: callbackApprover(() => new Promise(() => {})),
      onDeny: 'return',
    });
    const controller = new AbortController();
    const pending = tg.guard(() => 1, { name: 't' })({}, { signal: controller.signal });
    setTimeout(() => controller.abort(), 10);
    await expect(pending).resolves.toMatchObject({ denied: true, code: 'CANCELLED' });
  });

  it('a late answer after the timeout is ignored', async () => {
    let answer: ((value: unknown) => void) | undefined;
    const spy = spyTool();
    const tg = createGuard({
      policy: engine(ASK),
      approver: callbackApprover(
        (request) =>
          new Promise((resolve) => {
            answer = () => resolve({ requestId: request.id, approved: true, approver: 'late' });
          }),
      ),
      onDeny: 'return',
      defaults: { approvalTimeout: 20 },
    });
    await expect(tg.guard(spy.fn, { name: 't' })({})).resolves.toMatchObject({ code: 'APPROVAL_TIMEOUT' });
    answer?.(undefined);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(spy.calls).toHaveLength(0);
  });

  it('an answer past expiresAt on the guard clock denies even if the timer did not fire', async () => {
    let now = 1_000;
    const tg = createGuard({
      policy: engine(ASK),
      now: () => now,
      approver: callbackApprover((request) => {
        now = request.expiresAt + 1;
        return { requestId: request.id, approved: true, approver: 'a' };
      }),
      onDeny: 'return',
    });
    await expect(tg.guard(() => 1, { name: 't' })({})).resolves.toMatchObject({ code: 'APPROVAL_TIMEOUT' });
  });

  it('approver globs and separation of duties from the decision are enforced', async () => {
    const make = (approver: string, approval: object) =>
      createGuard({
        policy: engine({ ...ASK, approval }),
        approver: callbackApprover((request) => ({ requestId: request.id, approved: true, approver })),
        onDeny: 'return',
      }).guard(() => 'ran', { name: 't' })({}, { context: { principal: 'user:1' } });
    await expect(make('finance:ann', { approvers: ['finance:*'] })).resolves.toBe('ran');
    await expect(make('eng:bob', { approvers: ['finance:*'] })).resolves.toMatchObject({
      code: 'APPROVAL_INVALID',
    });
    await expect(make('user:1', { separationOfDuties: true })).resolves.toMatchObject({
      code: 'APPROVAL_INVALID',
    });
    await expect(make('user:2', { separationOfDuties: true })).resolves.toBe('ran');
  });
});

describe('G9 the executed args are exactly the evaluated and approved args', () => {
  it('args mutated (deeply) while an approval is pending do not reach the tool', async () => {
    const input = { order: { id: 'o-1', amount: 40 }, tags: ['a'] };
    let seenByApprover: unknown;
    const spy = spyTool();
    const tg = createGuard({
      policy: engine(ASK),
      approver: callbackApprover(async (request) => {
        seenByApprover = request.args;
        input.order.amount = 40_000;
        input.tags.push('evil');
        (input as Record<string, unknown>).extra = true;
        await new Promise((resolve) => setTimeout(resolve, 5));
        return { requestId: request.id, approved: true, approver: 'human' };
      }),
    });
    await tg.guard(spy.fn, { name: 't' })(input);
    expect(spy.calls).toEqual([{ order: { id: 'o-1', amount: 40 }, tags: ['a'] }]);
    expect(seenByApprover).toEqual(spy.calls[0]);
  });

  it('the policy and the tool see the same frozen object', async () => {
    let evaluated: unknown;
    const spy = spyTool();
    const tg = createGuard({
      policy: engine((request: { args: unknown }) => {
        evaluated = request.args;
        return ALLOW;
      }),
    });
    await tg.guard(spy.fn, { name: 't' })({ a: { b: 1 } });
    expect(spy.calls[0]).toBe(evaluated);
  });

  it('a getter or Proxy in args never yields two different values: refused up front', async () => {
    let reads = 0;
    const spy = spyTool();
    const policyCalls: unknown[] = [];
    const tg = createGuard({
      policy: engine((r: unknown) => {
        policyCalls.push(r);
        return ALLOW;
      }),
      onDeny: 'return',
    });
    const tool = tg.guard(spy.fn, { name: 't' });
    const getter = {
      get amount() {
        return ++reads;
      },
    };
    const proxy = new Proxy({ amount: 1 }, { get: () => ++reads });
    await expect(tool(getter)).resolves.toMatchObject({ code: 'INVALID_ARGS' });
    await expect(tool(proxy)).resolves.toMatchObject({ code: 'INVALID_ARGS' });
    await expect(tool({ nested: proxy })).resolves.toMatchObject({ code: 'INVALID_ARGS' });
    expect(reads).toBe(0);
    expect(policyCalls).toHaveLength(0);
    expect(spy.calls).toHaveLength(0);
  });

  it('edited args are validated, re-decided, and run exactly as approved', async () => {
    const spy = spyTool();
    const decisions: unknown[] = [];
    const audit = memoryAudit();
    const tg = createGuard({
      policy: engine((request: { args: { amount: number } }) => {
        decisions.push(request.args.amount);
        if (request.args.amount > 1000)
          return { type: 'deny', rules: ['cap'], code: 'DENIED_BY_RULE', reason: 'too much' };
        return request.args.amount > 100 ? ASK : ALLOW;
      }),
      approver: callbackApprover((request) => ({
        requestId: request.id,
        approved: true,
        approver: 'human',
        args: { amount: (request.args as { amount: number }).amount === 500 ? 200 : 5000 },
      })),
      audit,
      onDeny: 'return',
    });
    const tool = tg.guard(spy.fn, { name: 'refund' });
    await tool({ amount: 500 });
    expect(spy.calls).toEqual([{ amount: 200 }]);
    const decision = audit.events.find((e) => e.type === 'decision') as DecisionEvent;
    expect(decision.args).toEqual({ amount: 200 });
    const response = audit.events.find((e) => e.type === 'approval-response');
    expect(response).toMatchObject({ edited: true, approved: true });
    // An edit that the policy denies is denied: deny still wins.
    await expect(tool({ amount: 300 })).resolves.toMatchObject({ code: 'DENIED_BY_RULE' });
    expect(spy.calls).toHaveLength(1);
    expect(decisions).toEqual([500, 200, 300, 5000]);
  });

  it('edited args that are not valid JSON data or fail the schema deny', async () => {
    const spy = spyTool();
    const tg = createGuard({
      policy: engine(ASK),
      approver: callbackApprover((request) => ({
        requestId: request.id,
        approved: true,
        approver: 'h',
        args: { f: () => 1 } as never,
      })),
      onDeny: 'return',
    });
    await expect(tg.guard(spy.fn, { name: 't' })({})).resolves.toMatchObject({ code: 'APPROVAL_INVALID' });
    expect(spy.calls).toHaveLength(0);
  });
});
