import { describe, expect, it } from 'vitest';
import { createGuard, rules } from '../../src/index.ts';
import { fakeClock, memoryAudit, scriptedApprover } from '../../src/testing/index.ts';

describe('toolgate/testing fakes', () => {
  it('fakeClock drives the guard clock', async () => {
    const clock = fakeClock(1_000);
    const audit = memoryAudit();
    const tg = createGuard({
      policy: rules([{ id: 'a', effect: 'allow', tool: 't' }]),
      audit,
      now: clock.now,
    });
    const tool = tg.guard(() => 1, { name: 't' });
    await tool({});
    clock.advance(5_000);
    await tool({});
    clock.set(42);
    await tool({});
    expect(audit.events.filter((e) => e.type === 'decision').map((e) => e.ts)).toEqual([1_000, 6_000, 42]);
  });

  it('scriptedApprover answers in order, records requests, and denies when the script runs out', async () => {
    const approver = scriptedApprover([
      'approve',
      { approve: false, reason: 'too big' },
      { approve: true, args: { n: 2 } },
    ]);
    const tg = createGuard({
      policy: rules([{ id: 'k', effect: 'ask', tool: 't' }]),
      approver,
      onDeny: 'return',
    });
    const tool = tg.guard((args: { n: number }) => args.n, { name: 't' });
    expect(await tool({ n: 1 })).toBe(1);
    expect(await tool({ n: 1 })).toMatchObject({ denied: true, code: 'APPROVAL_DENIED' });
    expect(await tool({ n: 1 })).toBe(2);
    expect(await tool({ n: 1 })).toMatchObject({ denied: true, code: 'APPROVAL_DENIED' });
    expect(approver.requests).toHaveLength(4);
    expect(approver.remaining).toBe(0);
  });
});
