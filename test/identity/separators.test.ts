// Identities that come from credentials are held to the rule every identity is held to
// (src/_internal/names.ts): no separator or whitespace character inside but single U+0020 spaces.
// Before, a principal `finance:jane\u00a0doe` (or with two spaces) was refused in a host context
// and accepted from a verified credential, where it counted as another person than the approver
// `finance:jane doe` under separation of duties.
import { describe, expect, it } from 'vitest';
import {
  createKeySet,
  generateSigningKey,
  issueCredential,
  verifyCredential,
} from '../../src/identity/index.ts';
import { ConfigurationError, callbackApprover, createGuard, memoryAudit, rules } from '../../src/index.ts';
import { claims, craft, setup } from './helpers.ts';

const LOOK_ALIKES = [
  'user:jane\u00a0doe', // no-break space
  'user:jane  doe', // two spaces
  'user:jane\u2003doe', // em space
  'user:jane\u3000doe', // ideographic space
  'user:jane\u2028doe', // line separator
];

describe('separators inside identities from credentials', () => {
  it('issueCredential refuses them in the principal, intent and session', async () => {
    const { authority } = await setup();
    for (const value of LOOK_ALIKES) {
      const base = { agent: 'support-bot', principal: 'user:42', tools: ['db.query'], audience: 'shop' };
      for (const field of ['principal', 'intent', 'session'] as const)
        await expect(issueCredential(authority, { ...base, [field]: value })).rejects.toThrow(
          ConfigurationError,
        );
    }
    await expect(
      issueCredential(authority, {
        agent: 'support-bot',
        principal: 'user:jane doe',
        tools: ['db.query'],
        audience: 'shop',
      }),
    ).resolves.toEqual(expect.any(String));
  });

  it('the registry refuses them in agent names, owners and principal globs', async () => {
    const { registry } = await setup();
    const ceiling = { owner: 'team:support', tools: ['db.*'], principals: ['user:*'], maxTtl: '1h' };
    for (const value of ['pay\u00a0bot', 'pay  bot']) {
      await expect(registry.register(value, ceiling)).rejects.toThrow(ConfigurationError);
      await expect(registry.register('pay-bot', { ...ceiling, owner: value })).rejects.toThrow(
        ConfigurationError,
      );
      await expect(
        registry.register('pay-bot', { ...ceiling, principals: [`user:${value}*`] }),
      ).rejects.toThrow(ConfigurationError);
    }
  });

  it('a token signed with the set that carries one is CREDENTIAL_INVALID, in verifyCredential and the guard', async () => {
    const { signing, keys, registry, verifyOptions, clock, store } = await setup();
    for (const value of LOOK_ALIKES) {
      for (const field of ['sub', 'principal', 'intent', 'session']) {
        const token = craft(signing, { alg: 'EdDSA', kid: 'k1' }, claims({ [field]: value }));
        await expect(verifyCredential({ ...verifyOptions, now: clock.now }, token)).rejects.toMatchObject({
          code: 'CREDENTIAL_INVALID',
        });
      }
    }
    // Separation of duties: `user:jane doe` approves; the credential's principal only looks like her.
    const tg = createGuard({
      policy: rules([
        {
          id: 'q',
          effect: 'ask',
          tool: 'db.query',
          approval: { approvers: ['user:*'], separationOfDuties: true },
        },
      ]),
      audit: memoryAudit(),
      now: clock.now,
      store,
      onDeny: 'return',
      identity: { keys, registry, audience: 'shop' },
      approver: callbackApprover((r) => ({ requestId: r.id, approved: true, approver: 'user:jane doe' })),
    });
    const ran: unknown[] = [];
    const query = tg.guard(
      async (args: unknown) => {
        ran.push(args);
        return 'ran';
      },
      { name: 'db.query' },
    );
    const token = craft(signing, { alg: 'EdDSA', kid: 'k1' }, claims({ principal: 'user:jane\u00a0doe' }));
    await expect(query({}, { context: { credential: token } })).resolves.toMatchObject({
      code: 'CREDENTIAL_INVALID',
    });
    expect(ran).toEqual([]);
  });

  it('a key set refuses an issuer no credential could carry', async () => {
    const signing = await generateSigningKey({ kid: 'k1' });
    await expect(createKeySet({ signing, issuer: 'auth\u00a0service' })).rejects.toThrow(ConfigurationError);
    await expect(createKeySet({ signing, issuer: 'auth service' })).resolves.toBeDefined();
  });
});
