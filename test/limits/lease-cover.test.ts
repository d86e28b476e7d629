import { describe, expect, it } from 'vitest';
import type { AuditEvent } from '../../src/audit/types.ts';
import { createGuard } from '../../src/guard.ts';
import type { PolicyEngine } from '../../src/policy/types.ts';
import { memoryStore } from '../../src/store/memory.ts';
import type { AdmitRequest, StateStore } from '../../src/store/types.ts';
import type { Decision } from '../../src/types.ts';
import { testStores } from '../store/stores.ts';
import { codeOf, limitedPolicy } from './helpers.ts';

// A concurrency slot is held for the whole call: from admission to the end of the tool, whatever
// the call waits for in between (an approval, a fail-closed audit write, a secret fetch).

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const stores = await testStores('rv5:lease-cover');

describe.each(stores)('the slot covers the whole call (%s store)', (_name, makeStore) => {
  it('through a slow fail-closed audit write before the tool', async () => {
    let decisions = 0;
    const sink = {
      name: 'slow-first',
      write() {},
      async writeDurable(event: AuditEvent) {
        if (event.type === 'decision' && decisions++ === 0) await sleep(1500);
      },
    };
    const tg = createGuard({
      policy: limitedPolicy({ concurrency: 1 }),
      store: makeStore(),
      onDeny: 'return',
      audit: { sinks: [sink], mode: 'fail-closed' },
      defaults: { timeout: '1s' },
    });
    let inFlight = 0;
    let most = 0;
    const tool = tg.guard(
      async () => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        await sleep(900);
        inFlight -= 1;
        return 'done';
      },
      { name: 'db.heavy' },
    );
    const first = tool({});
    // Past admission + timeout + grace (2 s): the first call is still in its tool.
    await sleep(2100);
    const second = await tool({});
    expect(codeOf(second)).toBe('CONCURRENCY_LIMITED');
    expect(await first).toBe('done');
    expect(most).toBe(1);
    // Given back when the call settled.
    await sleep(50);
    decisions = 1;
    expect(await tool({})).toBe('done');
  }, 10_000);

  it('through an approval whose timeout is a duration string', async () => {
    const policy: PolicyEngine = {
      name: 'engine',
      evaluate: () =>
        ({
          type: 'ask',
          rules: ['r'],
          reason: 'x',
          approval: { timeout: '3s' },
          limits: [{ rule: 'r', limits: { concurrency: 1 } }],
        }) as unknown as Decision,
    };
    const approver = {
      name: 'slow',
      request: async (request: { id: string }) => {
        await sleep(2000);
        return { requestId: request.id, approved: true as const, approver: 'user:ops' };
      },
    };
    const tg = createGuard({
      policy,
      approver,
      store: makeStore(),
      onDeny: 'return',
      defaults: { timeout: '300ms', approvalTimeout: '300ms' },
    });
    const tool = tg.guard(async () => 'ran', { name: 'db.heavy' });
    const first = tool({});
    await sleep(1700);
    expect(codeOf(await tool({}))).toBe('CONCURRENCY_LIMITED');
    expect(await first).toBe('ran');
  }, 10_000);
});

describe('the lease sent to the store', () => {
  function spyStore() {
    const inner = memoryStore();
    const leases: number[] = [];
    const store: StateStore = {
      ...inner,
      name: 'spy',
      admit(request: AdmitRequest) {
        for (const check of request.semaphores ?? []) leases.push(check.leaseMs);
        return inner.admit(request);
      },
    };
    return { store, leases };
  }

  it('reads approval.timeout as the approval flow does (parseDuration)', async () => {
    const { store, leases } = spyStore();
    const policy: PolicyEngine = {
      name: 'engine',
      evaluate: () =>
        ({
          type: 'ask',
          rules: ['r'],
          reason: 'x',
          approval: { timeout: '3s' },
          limits: [{ rule: 'r', limits: { concurrency: 1 } }],
        }) as unknown as Decision,
    };
    const tg = createGuard({
      policy,
      store,
      approver: { name: 'yes', request: (r) => ({ requestId: r.id, approved: true, approver: 'user:ops' }) },
      onDeny: 'return',
      defaults: { timeout: '500ms', approvalTimeout: '200ms' },
    });
    expect(await tg.guard(() => 'ran', { name: 't' })({})).toBe('ran');
    expect(leases[0]).toBe(500 + 3000 + 1000);
  });

  it('no renewal once the call settled', async () => {
    const { store, leases } = spyStore();
    const tg = createGuard({
      policy: limitedPolicy({ concurrency: 1 }),
      store,
      onDeny: 'return',
      defaults: { timeout: 200 },
    });
    // A tool that ignores its timeout: the slot is given back when the call times out.
    const tool = tg.guard(() => sleep(150).then(() => 'ok'), { name: 't' });
    expect(await tool({})).toBe('ok');
    const after = leases.length;
    await sleep(800);
    expect(leases.length).toBe(after);
  });
});
