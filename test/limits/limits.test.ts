import { describe, expect, it } from 'vitest';
import { autoDeny, callbackApprover } from '../../src/approval/providers.ts';
import { ToolDeniedError } from '../../src/errors.ts';
import { memoryStore } from '../../src/store/memory.ts';
import type { StateStore } from '../../src/store/types.ts';
import { codeOf, deferred, limitedGuard, limitedPolicy } from './helpers.ts';

describe('rate limits', () => {
  it('allows the limit in a sliding window, then denies with retryAfterMs, then allows again', async () => {
    const { tg, clock } = limitedGuard(limitedPolicy({ rate: '3/1m' }));
    const tool = tg.guard(() => 'ok', { name: 'search' });
    const results = [];
    for (let i = 0; i < 4; i++) {
      results.push(await tool({}, { context: { principal: 'u1' } }));
      clock.advance(1000);
    }
    expect(results.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
    expect(codeOf(results[3])).toBe('RATE_LIMITED');
    // The denial the model reads says when to retry: the first hit (t0) leaves the window at t0+60s.
    expect(results[3]).toMatchObject({ denied: true, retryAfterMs: 57_000 });
    // The first hit was at t0; now is t0+4s; it leaves the window at t0+60s.
    const decision = await tg.check('search', {}, { principal: 'u1' });
    expect(decision).toMatchObject({
      type: 'deny',
      code: 'RATE_LIMITED',
      retryAfterMs: 56_000,
      rules: ['limited'],
    });
    // Another principal has its own counter (default key: tool + principal).
    expect(await tool({}, { context: { principal: 'u2' } })).toBe('ok');
    clock.advance(56_000);
    expect(await tool({}, { context: { principal: 'u1' } })).toBe('ok');
  });

  it('throws ToolDeniedError with retryAfterMs on the decision', async () => {
    const { tg } = limitedGuard(limitedPolicy({ rate: '1/1h' }), { onDeny: 'throw' } as never);
    const tool = tg.guard(() => 'ok', { name: 'search' });
    await tool({});
    const error = await (tool({}) as Promise<unknown>).catch((e: unknown) => e);
    expect(ToolDeniedError.isInstance(error)).toBe(true);
    expect((error as ToolDeniedError).code).toBe('RATE_LIMITED');
    expect((error as ToolDeniedError).decision).toMatchObject({ retryAfterMs: 3_600_000 });
  });

  it('check() peeks: it agrees with enforcement and consumes nothing (G13)', async () => {
    const { tg } = limitedGuard(limitedPolicy({ rate: '2/1m' }));
    const tool = tg.guard(() => 'ok', { name: 'search' });
    for (let i = 0; i < 10; i++) expect((await tg.check('search', {})).type).toBe('allow');
    expect(await tool({})).toBe('ok');
    expect((await tg.check('search', {})).type).toBe('allow');
    expect(await tool({})).toBe('ok');
    expect(await tg.check('search', {})).toMatchObject({ type: 'deny', code: 'RATE_LIMITED' });
    expect(codeOf(await tool({}))).toBe('RATE_LIMITED');
  });

  it('keys counters by the listed fields', async () => {
    const { tg } = limitedGuard(limitedPolicy({ rate: '1/1m', key: ['agent'] }));
    const tool = tg.guard(() => 'ok', { name: 'search' });
    expect(await tool({}, { context: { agent: 'a', principal: 'p1' } })).toBe('ok');
    expect(codeOf(await tool({}, { context: { agent: 'a', principal: 'p2' } }))).toBe('RATE_LIMITED');
    expect(await tool({}, { context: { agent: 'b', principal: 'p1' } })).toBe('ok');
  });

  it('100 concurrent calls against a rate of 10 allow exactly 10', async () => {
    const { tg } = limitedGuard(limitedPolicy({ rate: '10/1h' }));
    let runs = 0;
    const tool = tg.guard(
      async () => {
        runs += 1;
        return 'ok';
      },
      { name: 'search' },
    );
    const results = await Promise.all(Array.from({ length: 100 }, () => tool({})));
    expect(results.filter((r) => r === 'ok')).toHaveLength(10);
    expect(results.filter((r) => codeOf(r) === 'RATE_LIMITED')).toHaveLength(90);
    expect(runs).toBe(10);
  });
});

describe('concurrency limits', () => {
  it('100 simultaneous calls against a limit of 10 allow exactly 10; slots come back', async () => {
    const { tg } = limitedGuard(limitedPolicy({ concurrency: 10 }));
    const gate = deferred();
    let running = 0;
    const tool = tg.guard(
      async () => {
        running += 1;
        await gate.promise;
        return 'ok';
      },
      { name: 'db.query' },
    );
    const pending = Array.from({ length: 100 }, () => tool({}));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(running).toBe(10);
    gate.resolve();
    const results = await Promise.all(pending);
    expect(results.filter((r) => r === 'ok')).toHaveLength(10);
    expect(results.filter((r) => codeOf(r) === 'CONCURRENCY_LIMITED')).toHaveLength(90);
    // Every slot was released.
    const again = await Promise.all(Array.from({ length: 10 }, () => tool({})));
    expect(again.every((r) => r === 'ok')).toBe(true);
  });

  it.each([
    ['returns', () => 'ok'],
    [
      'throws synchronously',
      () => {
        throw new Error('boom');
      },
    ],
    [
      'rejects',
      async () => {
        throw new Error('boom');
      },
    ],
  ])('releases the slot when the tool %s', async (_label, fn) => {
    const { tg } = limitedGuard(limitedPolicy({ concurrency: 1 }));
    const tool = tg.guard(fn as () => unknown, { name: 't' });
    for (let i = 0; i < 3; i++) {
      const result = await Promise.resolve(tool({})).catch((e: unknown) => e);
      expect(codeOf(result)).toBeUndefined();
    }
  });

  it('releases the slot on timeout and on abort', async () => {
    const { tg } = limitedGuard(limitedPolicy({ concurrency: 1 }, { obligations: { timeout: 20 } }));
    const never = tg.guard(() => new Promise(() => {}), { name: 't' });
    expect(codeOf(await never({}))).toBe('TIMEOUT');
    const controller = new AbortController();
    const call = never({}, { signal: controller.signal });
    // While it runs, the slot is taken.
    expect(await tg.check('t', {})).toMatchObject({ type: 'deny', code: 'CONCURRENCY_LIMITED' });
    controller.abort();
    expect(codeOf(await call)).toBe('CANCELLED');
    expect((await tg.check('t', {})).type).toBe('allow');
  });

  it('releases the slot when the call is denied later (approval denied)', async () => {
    const { tg } = limitedGuard(limitedPolicy({ concurrency: 1 }, { type: 'ask' }), { approver: autoDeny() });
    const tool = tg.guard(() => 'ok', { name: 't' });
    expect(codeOf(await tool({}))).toBe('APPROVAL_DENIED');
    expect(codeOf(await tool({}))).toBe('APPROVAL_DENIED');
  });
});

describe('budgets', () => {
  const budget = { sum: 'args.amount', max: 100, per: '1d' };

  it('reserves a running sum per window and never overshoots', async () => {
    const { tg, clock } = limitedGuard(limitedPolicy({ budget }));
    const refund = tg.guard(({ amount }: { amount: number }) => amount, { name: 'payments.refund' });
    expect(await refund({ amount: 60 })).toBe(60);
    const over = await refund({ amount: 50 });
    expect(codeOf(over)).toBe('BUDGET_EXCEEDED');
    expect(await tg.check('payments.refund', { amount: 50 })).toMatchObject({
      code: 'BUDGET_EXCEEDED',
      retryAfterMs: 86_400_000,
    });
    expect(await refund({ amount: 40 })).toBe(40);
    expect(codeOf(await refund({ amount: 0.01 }))).toBe('BUDGET_EXCEEDED');
    clock.advance(86_400_000);
    expect(await refund({ amount: 100 })).toBe(100);
  });

  it('concurrent reservations never overshoot', async () => {
    const { tg } = limitedGuard(limitedPolicy({ budget }));
    let spent = 0;
    const refund = tg.guard(
      async ({ amount }: { amount: number }) => {
        spent += amount;
        return amount;
      },
      { name: 'payments.refund' },
    );
    await Promise.all(Array.from({ length: 50 }, () => refund({ amount: 7 })));
    expect(spent).toBe(98);
  });

  it('a missing, negative or non-numeric amount denies', async () => {
    const { tg } = limitedGuard(limitedPolicy({ budget }));
    const refund = tg.guard(() => 'ran', { name: 'payments.refund' });
    for (const args of [{}, { amount: -5 }, { amount: '5' }, { amount: null }]) {
      expect(codeOf(await refund(args))).toBe('BUDGET_EXCEEDED');
    }
  });

  it('a cost function that throws denies (POLICY_ERROR)', async () => {
    const { tg } = limitedGuard(
      limitedPolicy({
        budget: {
          cost: () => {
            throw new Error('nope');
          },
          max: 10,
          per: '1h',
        },
      }),
    );
    const tool = tg.guard(() => 'ran', { name: 't' });
    expect(codeOf(await tool({}))).toBe('POLICY_ERROR');
  });

  it('releases the reservation when the call is denied later, keeps it when the tool ran', async () => {
    const { tg } = limitedGuard(limitedPolicy({ budget }, { type: 'ask' }), { approver: autoDeny() });
    const refund = tg.guard(() => 'ran', { name: 'payments.refund' });
    for (let i = 0; i < 5; i++) expect(codeOf(await refund({ amount: 60 }))).toBe('APPROVAL_DENIED');

    const second = limitedGuard(limitedPolicy({ budget }));
    const failing = second.tg.guard(
      async () => {
        throw new Error('after side effects, maybe');
      },
      { name: 'payments.refund' },
    );
    await expect(failing({ amount: 60 })).rejects.toThrow('maybe');
    expect(codeOf(await failing({ amount: 60 }))).toBe('BUDGET_EXCEEDED');
  });

  it('a reservation is released when the call is cancelled before it runs', async () => {
    const { tg } = limitedGuard(limitedPolicy({ budget }, { type: 'ask' }), {
      approver: {
        name: 'slow',
        request: (_r, { signal }) =>
          new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
      },
    });
    const refund = tg.guard(() => 'ran', { name: 'payments.refund' });
    const controller = new AbortController();
    const call = refund({ amount: 100 }, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await tg.check('payments.refund', { amount: 1 })).toMatchObject({ code: 'BUDGET_EXCEEDED' });
    controller.abort();
    expect(codeOf(await call)).toBe('CANCELLED');
    expect(await tg.check('payments.refund', { amount: 100 })).toMatchObject({ type: 'ask' });
  });
});

describe('fail closed', () => {
  const failing = (admit: StateStore['admit']): StateStore => ({ ...memoryStore(), admit });

  it.each([
    [
      'throws',
      failing(() => {
        throw new Error('connection refused');
      }),
    ],
    ['rejects', failing(() => Promise.reject(new Error('down')))],
    ['never answers', failing(() => new Promise(() => {}))],
    ['answers garbage', failing(() => 'yes' as never)],
    ['answers null', failing(() => null as never)],
    [
      'answers with a getter that throws',
      failing(
        async () =>
          ({
            get ok(): boolean {
              throw new Error('trap');
            },
          }) as never,
      ),
    ],
  ])('a store that %s denies with STORE_UNAVAILABLE', async (_label, store) => {
    let ran = false;
    const { tg } = limitedGuard(limitedPolicy({ rate: '10/1m' }), { store, defaults: { storeTimeout: 30 } });
    const tool = tg.guard(
      () => {
        ran = true;
      },
      { name: 't' },
    );
    expect(codeOf(await tool({}))).toBe('STORE_UNAVAILABLE');
    expect(await tg.check('t', {})).toMatchObject({ type: 'deny', code: 'STORE_UNAVAILABLE' });
    expect(ran).toBe(false);
  });

  it('a store failure denies even a decision without limits (suspensions are always checked)', async () => {
    const store = failing(() => {
      throw new Error('down');
    });
    const { tg } = limitedGuard({ name: 'p', evaluate: () => ({ type: 'allow', rules: ['r'] }) }, { store });
    expect(codeOf(await tg.guard(() => 'ran', { name: 't' })({}))).toBe('STORE_UNAVAILABLE');
  });

  it.each([
    [{ rate: '20 per minute' }],
    [{ rate: '0/1m' }],
    [{ rate: '5/0s' }],
    [{ concurrency: 0 }],
    [{ concurrency: 1.5 }],
    [{ budget: { sum: 'args.amount', max: -1, per: '1d' } }],
    [{ budget: { sum: 'amount', max: 1, per: '1d' } }],
    [{ budget: { max: 1, per: '1d' } }],
    [{ budget: { sum: 'args.a', max: 1, per: 'soon' } }],
    [{ key: ['tool', 'ip'] }],
    [{ rates: '1/1m' }],
  ])('malformed limits %j deny with POLICY_ERROR', async (limits) => {
    const { tg } = limitedGuard(limitedPolicy(limits as never));
    expect(codeOf(await tg.guard(() => 'ran', { name: 't' })({ a: 1 }))).toBe('POLICY_ERROR');
  });
});

describe('suspensions (kill switch)', () => {
  it('suspends a tool, an agent, a principal or a session until resumed or expired', async () => {
    const { tg, clock } = limitedGuard({ name: 'p', evaluate: () => ({ type: 'allow', rules: ['r'] }) });
    const tool = tg.guard(() => 'ok', { name: 'payments.refund' });
    const context = { agent: 'bot', principal: 'user:1', session: 's1' };
    for (const target of [
      { tool: 'payments.refund' },
      { agent: 'bot' },
      { principal: 'user:1' },
      { session: 's1' },
    ]) {
      await tg.suspend({ ...target, reason: 'incident' });
      expect(codeOf(await tool({}, { context }))).toBe('SUSPENDED');
      expect(await tg.check('payments.refund', {}, context)).toMatchObject({ code: 'SUSPENDED' });
      const other = await tool({}, { context: { agent: 'other', principal: 'user:2', session: 's2' } });
      if ('tool' in target) expect(codeOf(other)).toBe('SUSPENDED');
      else expect(other).toBe('ok');
      expect(await tg.resume(target as never)).toBe(true);
      expect(await tool({}, { context })).toBe('ok');
    }
    await tg.suspend({ agent: 'bot', for: '10m' });
    expect(await tg.suspensions()).toEqual([
      { field: 'agent', value: 'bot', at: clock.now(), until: clock.now() + 600_000 },
    ]);
    expect(codeOf(await tool({}, { context }))).toBe('SUSPENDED');
    clock.advance(600_000);
    expect(await tool({}, { context })).toBe('ok');
    expect(await tg.suspensions()).toEqual([]);
    expect(await tg.resume({ agent: 'bot' })).toBe(false);
  });

  it('records suspend and resume on the audit trail', async () => {
    const { tg, audit, clock } = limitedGuard(limitedPolicy({}));
    await tg.suspend({ principal: 'user:9', reason: 'fraud review', for: '1h' });
    await tg.resume({ principal: 'user:9' });
    await tg.resume({ principal: 'user:9' });
    const records = audit.events.filter((event) => event.type === 'suspension');
    expect(records).toMatchObject([
      {
        type: 'suspension',
        action: 'suspend',
        field: 'principal',
        value: 'user:9',
        reason: 'fraud review',
        until: clock.now() + 3_600_000,
      },
      { type: 'suspension', action: 'resume', field: 'principal', value: 'user:9', lifted: true },
      { type: 'suspension', action: 'resume', lifted: false },
    ]);
  });

  it('refuses an ambiguous target', async () => {
    const { tg } = limitedGuard(limitedPolicy({}));
    await expect(tg.suspend({ agent: 'a', tool: 't' } as never)).rejects.toThrow(/exactly one/);
    await expect(tg.suspend({} as never)).rejects.toThrow(/exactly one/);
    await expect(tg.suspend({ agent: '' })).rejects.toThrow(/non-empty/);
  });
});

describe('loop protection', () => {
  it('caps calls per session', async () => {
    const { tg } = limitedGuard(
      { name: 'p', evaluate: () => ({ type: 'allow', rules: ['r'] }) },
      {
        defaults: { maxSessionCalls: 3 },
      },
    );
    const tool = tg.guard(() => 'ok', { name: 't' });
    for (let i = 0; i < 3; i++) expect(await tool({}, { context: { session: 'loop' } })).toBe('ok');
    expect(codeOf(await tool({}, { context: { session: 'loop' } }))).toBe('RATE_LIMITED');
    expect(await tool({}, { context: { session: 'other' } })).toBe('ok');
    expect(await tool({})).toBe('ok');
  });
});

describe('edited arguments', () => {
  const budget = { sum: 'args.amount', max: 100, per: '1d' };
  const editTo = (amount: number) =>
    callbackApprover((request) => ({
      requestId: request.id,
      approved: true,
      approver: 'ops',
      args: { amount },
    }));

  it('the budget counts the amount that runs, not the amount first asked', async () => {
    const { tg } = limitedGuard(limitedPolicy({ budget }, { type: 'ask' }), { approver: editTo(30) });
    const refund = tg.guard(({ amount }: { amount: number }) => amount, { name: 'payments.refund' });
    expect(await refund({ amount: 90 })).toBe(30);
    // 30 are spent, not 90: 70 more fit, 71 would not.
    expect((await tg.check('payments.refund', { amount: 70 })).type).toBe('ask');
    expect(await tg.check('payments.refund', { amount: 71 })).toMatchObject({ code: 'BUDGET_EXCEEDED' });
  });

  it('an edit that breaks the budget denies, and releases what was reserved', async () => {
    let ran = false;
    const { tg } = limitedGuard(limitedPolicy({ budget, concurrency: 1 }, { type: 'ask' }), {
      approver: editTo(150),
    });
    const refund = tg.guard(
      () => {
        ran = true;
      },
      { name: 'payments.refund' },
    );
    expect(codeOf(await refund({ amount: 10 }))).toBe('BUDGET_EXCEEDED');
    expect(ran).toBe(false);
    expect((await tg.check('payments.refund', { amount: 100 })).type).toBe('ask');
  });
});
