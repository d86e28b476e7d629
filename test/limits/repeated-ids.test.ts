import { describe, expect, it } from 'vitest';
import { createGuard } from '../../src/guard.ts';
import { rules } from '../../src/policy/rules.ts';
import { fakeClock } from '../../src/testing/fakes.ts';
import { testStores } from '../store/stores.ts';
import { codeOf } from './helpers.ts';

// The store takes a holder it has seen as the same call again (idempotent admission). A host's
// `generateId` may repeat ids (a request id, a counter per process), so the holder of a call with
// a host's id is made unique: calls that share an id are each counted, on both stores.

const stores = await testStores('rv6:repeated-ids');

describe.each(stores)('calls whose host ids repeat, on the %s store', (_name, makeStore) => {
  const guardWith = (limit: object) => {
    const clock = fakeClock();
    const tg = createGuard({
      policy: rules([{ id: 'pay', effect: 'allow', tool: 'pay', limit: limit as never }]),
      store: makeStore(),
      now: clock.now,
      generateId: () => 'request-42',
      onDeny: 'return',
    });
    return { tg, clock };
  };

  it('are each held to a concurrency limit', async () => {
    const { tg } = guardWith({ concurrency: 1 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let running = 0;
    const pay = tg.guard(
      async () => {
        running += 1;
        await gate;
        return 'paid';
      },
      { name: 'pay' },
    );
    const first = pay({});
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(codeOf(await pay({}))).toBe('CONCURRENCY_LIMITED');
    release();
    expect(await first).toBe('paid');
    expect(running).toBe(1);
  });

  it('are each counted by a rate and a budget', async () => {
    const { tg } = guardWith({ rate: '1/1h' });
    const pay = tg.guard(() => 'paid', { name: 'pay' });
    expect(await pay({})).toBe('paid');
    expect(codeOf(await pay({}))).toBe('RATE_LIMITED');
    const budgeted = guardWith({ budget: { max: 100, per: '1d', cost: () => 90 } }).tg.guard(() => 'paid', {
      name: 'pay',
    });
    expect(await budgeted({})).toBe('paid');
    expect(codeOf(await budgeted({}))).toBe('BUDGET_EXCEEDED');
  });
});
