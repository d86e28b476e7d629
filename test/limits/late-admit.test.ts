import { afterAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/backends/redis/index.ts';
import { createGuard } from '../../src/guard.ts';
import { memoryStore } from '../../src/store/memory.ts';
import type { AdmitRequest, StateStore } from '../../src/store/types.ts';
import { deleteKeys, newClient, redisSkipReason } from '../store/redis-env.ts';
import { codeOf, deferred, limitedPolicy } from './helpers.ts';

// A store that answers after the call gave up (cancelled, or past storeTimeout) still took the
// slot and the reservation: the guard gives them back at once when the late answer arrives.

const LIMITS = { budget: { sum: 'args.amount', max: 100, per: '1d' }, concurrency: 1 } as const;

/** The memory store behind an `admit` that answers only when `gate` opens. */
function slowAdmitStore(): { store: StateStore; open: () => void; admitted: Promise<void> } {
  const inner = memoryStore();
  let gate = deferred();
  const admitted = deferred();
  let slow = true;
  const store: StateStore = {
    ...inner,
    name: 'slow',
    async admit(request: AdmitRequest) {
      if (slow) {
        slow = false;
        await gate.promise;
        const answer = inner.admit(request);
        admitted.resolve();
        return answer;
      }
      return inner.admit(request);
    },
  };
  return {
    store,
    open: () => {
      gate.resolve();
      gate = deferred();
    },
    admitted: admitted.promise,
  };
}

const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

function refundGuard(store: StateStore, storeTimeout: number | string = '1s') {
  let ran = 0;
  const tg = createGuard({
    policy: limitedPolicy(LIMITS),
    store,
    onDeny: 'return',
    defaults: { storeTimeout },
  });
  const refund = tg.guard(
    async ({ amount }: { amount: number }) => {
      ran += 1;
      return amount;
    },
    { name: 'payments.refund' },
  );
  return { tg, refund, ran: () => ran };
}

describe('a late admit answer is given back (memory store behind a slow admit)', () => {
  it('after the caller cancelled', async () => {
    const { store, open, admitted } = slowAdmitStore();
    const { refund, ran } = refundGuard(store);
    const controller = new AbortController();
    const pending = refund({ amount: 100 }, { signal: controller.signal });
    await tick();
    controller.abort();
    expect(codeOf(await pending)).toBe('CANCELLED');
    open();
    await admitted;
    await tick();
    // Neither the slot nor the reservation is held by the call that never ran.
    expect(await refund({ amount: 100 })).toBe(100);
    expect(ran()).toBe(1);
  });

  it('after storeTimeout', async () => {
    const { store, open, admitted } = slowAdmitStore();
    const { refund } = refundGuard(store, 50);
    expect(codeOf(await refund({ amount: 100 }))).toBe('STORE_UNAVAILABLE');
    open();
    await admitted;
    await tick();
    expect(await refund({ amount: 100 })).toBe(100);
  });

  it('a late refusal gives back nothing, and nothing breaks', async () => {
    const { store, open, admitted } = slowAdmitStore();
    const { tg, refund } = refundGuard(store, 50);
    const errors: unknown[] = [];
    tg.on('error', (event) => errors.push(event));
    expect(codeOf(await refund({ amount: 500 }))).toBe('STORE_UNAVAILABLE');
    open();
    await admitted;
    await tick();
    expect(await refund({ amount: 100 })).toBe(100);
    expect(errors).toEqual([]);
  });
});

const skip = await redisSkipReason();

describe.skipIf(skip !== undefined)('a late admit answer is given back (Redis)', () => {
  const client = skip === undefined ? newClient() : undefined;
  const admin = skip === undefined ? newClient() : undefined;
  const prefixes: string[] = [];
  const prefix = () => {
    const p = `rv5:late-admit:${process.pid}:${Math.random().toString(36).slice(2, 10)}:`;
    prefixes.push(p);
    return p;
  };
  afterAll(async () => {
    for (const p of prefixes) await deleteKeys(client!, p);
    client?.disconnect();
    admin?.disconnect();
  });

  it('after the caller cancelled during the admit round trip', async () => {
    const p = prefix();
    const store = redisStore({ client: client!, prefix: p });
    const { refund, ran } = refundGuard(store);
    await client!.ping();
    const controller = new AbortController();
    const pending = refund({ amount: 100 }, { signal: controller.signal });
    queueMicrotask(() => controller.abort());
    expect(codeOf(await pending)).toBe('CANCELLED');
    await tick(100);
    expect(await client!.keys(`${p}c:*`)).toEqual([]);
    expect(await refund({ amount: 100 })).toBe(100);
    expect(ran()).toBe(1);
    await store.close();
  });

  it('after storeTimeout, while Redis is paused (CLIENT PAUSE)', async () => {
    const p = prefix();
    const store = redisStore({ client: client!, prefix: p });
    const { refund, ran } = refundGuard(store, 100);
    await client!.ping();
    await admin!.call('CLIENT', 'PAUSE', '300', 'WRITE');
    expect(codeOf(await refund({ amount: 100 }))).toBe('STORE_UNAVAILABLE');
    await tick(450);
    expect(await refund({ amount: 1 })).toBe(1);
    expect(await refund({ amount: 99 })).toBe(99);
    expect(ran()).toBe(2);
    await store.close();
  });
});
