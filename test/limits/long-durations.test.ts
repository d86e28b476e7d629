import { describe, expect, it } from 'vitest';
import { createGuard } from '../../src/guard.ts';
import { rules } from '../../src/policy/rules.ts';
import type { PolicyEngine } from '../../src/policy/types.ts';
import type { AdmitRequest, StateStore } from '../../src/store/types.ts';
import type { Decision, RuleLimits } from '../../src/types.ts';
import { testStores } from '../store/stores.ts';
import { codeOf } from './helpers.ts';

// Durations longer than a timer or a Redis expiry can hold: a lease over 24.8 days (setTimeout's
// 32-bit delay), windows and leases of 10^17 ms and more (Redis' integer expiries), durations whose
// sum is no longer finite. Limits with them hold as written, on both stores.

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const stores = await testStores('rv6:long-durations');

/** The store with every `admit` counted. */
function counted(inner: StateStore): { store: StateStore; admits: () => number } {
  let admits = 0;
  const store: StateStore = {
    ...inner,
    name: 'counted',
    admit(request: AdmitRequest) {
      admits += 1;
      return inner.admit(request);
    },
  };
  return { store, admits: () => admits };
}

function askWith(approvalTimeout: string | number, limits: RuleLimits, timeout?: number): PolicyEngine {
  return {
    name: 'engine',
    evaluate: () =>
      ({
        type: 'ask',
        rules: ['r'],
        reason: 'x',
        approval: { timeout: approvalTimeout },
        limits: [{ rule: 'r', limits }],
        ...(timeout === undefined ? {} : { obligations: { timeout } }),
      }) as unknown as Decision,
  };
}

const slowYes = (ms: number) => ({
  name: 'slow',
  request: async (request: { id: string }) => {
    await sleep(ms);
    return { requestId: request.id, approved: true as const, approver: 'user:ops' };
  },
});

describe.each(stores)('long durations (%s store)', (_name, makeStore) => {
  it('a slot leased for 60 days is renewed no sooner than a timer can wait, not every millisecond', async () => {
    const { store, admits } = counted(makeStore());
    const tg = createGuard({
      policy: askWith('60d', { concurrency: 1 }),
      approver: slowYes(300),
      store,
      onDeny: 'return',
    });
    expect(await tg.guard(async () => 'ran', { name: 't' })({})).toBe('ran');
    // The admission, and the renewal with the kill switch after the approval wait: nothing more.
    expect(admits()).toBe(2);
  });

  it('a lease whose durations add up past any number still holds its slot', async () => {
    const tg = createGuard({
      policy: askWith(1e308, { concurrency: 1 }, 1e308),
      approver: slowYes(200),
      store: makeStore(),
      onDeny: 'return',
    });
    const tool = tg.guard(async () => 'ran', { name: 't' });
    const first = tool({});
    await sleep(50);
    expect((await tg.check('t', {})).type).toBe('deny');
    expect(codeOf(await tool({}))).toBe('CONCURRENCY_LIMITED');
    expect(await first).toBe('ran');
    expect((await tg.check('t', {})).type).toBe('ask');
  });

  it.each([
    ['a rate window', { rate: '1/4000000y' }, 'RATE_LIMITED'],
    ['a budget window', { budget: { sum: 'args.n', max: 1, per: 1e17 } }, 'BUDGET_EXCEEDED'],
    ['a budget window of 1e300 ms', { budget: { sum: 'args.n', max: 1, per: 1e300 } }, 'BUDGET_EXCEEDED'],
  ] as const)(
    '%s of 10^17 ms and more: the first call runs, the next is refused',
    async (_what, limit, code) => {
      const tg = createGuard({
        policy: rules([{ id: 'r', effect: 'allow', tool: 't', limit: limit as never }]),
        store: makeStore(),
        onDeny: 'return',
      });
      const tool = tg.guard(async (_args: { n: number }) => 'ran', { name: 't' });
      expect(await tool({ n: 1 })).toBe('ran');
      expect(codeOf(await tool({ n: 1 }))).toBe(code);
    },
  );
});
