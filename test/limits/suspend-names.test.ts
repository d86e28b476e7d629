import { describe, expect, it } from 'vitest';
import { createGuard } from '../../src/guard.ts';
import { rules } from '../../src/policy/rules.ts';

// A kill switch on a name no call can carry would suspend nobody while looking as if it did:
// tool names are held to the rules of tool names, as identities are to theirs.

describe('suspending a tool', () => {
  const tg = createGuard({ policy: rules([{ id: 'r', effect: 'allow', tool: 'café' }]), onDeny: 'return' });
  const tool = tg.guard(async () => 'ran', { name: 'café' });

  it.each([
    ['a trailing space', 'café '],
    ['a leading tab', '\tcafé'],
    ['a zero-width space', 'caf\u200bé'],
    ['a bidi override', '\u202ecafé'],
    ['an inner space', 'ca fé'],
    ['more than 256 characters', 'x'.repeat(257)],
  ])('refuses a name with %s', async (_what, name) => {
    await expect(tg.suspend({ tool: name })).rejects.toThrow(TypeError);
    await expect(tg.resume({ tool: name })).rejects.toThrow(TypeError);
    expect(await tg.suspensions()).toEqual([]);
    expect(await tool({})).toBe('ran');
  });

  it('takes the name in another normal form as the name (NFC), and suspends it', async () => {
    await tg.suspend({ tool: 'cafe\u0301' });
    expect((await tg.suspensions()).map((entry) => entry.value)).toEqual(['café']);
    expect(await tool({})).toMatchObject({ denied: true, code: 'SUSPENDED' });
    expect(await tg.resume({ tool: 'cafe\u0301' })).toBe(true);
    expect(await tool({})).toBe('ran');
  });
});
