import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGuard, loadPolicy, memoryAudit, type PolicyReloadEvent } from '../../src/index.ts';
import { tempDir } from './helpers.ts';

describe('policy-reload events', () => {
  it('a reloaded policy file leaves a policy-reload record; a failed reload records ok: false', async () => {
    const path = join(tempDir(), 'policy.json');
    writeFileSync(path, JSON.stringify({ rules: [{ id: 'a', effect: 'allow', tool: 'x' }] }));
    const policy = await loadPolicy(path);
    const audit = memoryAudit();
    const tg = createGuard({ policy, audit });
    const before = policy.version;
    writeFileSync(
      path,
      JSON.stringify({
        rules: [
          { id: 'a', effect: 'allow', tool: 'x' },
          { id: 'b', effect: 'deny', tool: 'y' },
        ],
      }),
    );
    expect(await policy.reload()).toBe(true);
    writeFileSync(path, '{ not json');
    expect(await policy.reload()).toBe(false);
    const events = audit.events.filter((e): e is PolicyReloadEvent => e.type === 'policy-reload');
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ v: 1, ok: true, previousVersion: before, rules: 2, source: path });
    expect(events[0]!.policyVersion).not.toBe(before);
    expect(events[1]).toMatchObject({ ok: false, rules: 2 });
    expect(typeof events[1]!.reason).toBe('string');
    await tg.close();
    // After close, reloads are no longer recorded.
    await policy.reload();
    expect(audit.events.filter((e) => e.type === 'policy-reload')).toHaveLength(2);
    await policy.close();
  });
});
