import { describe, expect, it } from 'vitest';
import { CredentialError } from '../../src/errors.ts';
import {
  createKeySet,
  delegateCredential,
  generateSigningKey,
  issueCredential,
  MAX_DELEGATION_DEPTH,
  verifyCredential,
} from '../../src/identity/index.ts';
import { parts, START, setup } from './helpers.ts';

async function code(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!CredentialError.isInstance(error)) throw new Error(`expected a CredentialError, got ${String(error)}`);
  return error.code;
}

const ISSUE = { agent: 'support-bot', principal: 'user:42', tools: ['db.query'], audience: 'shop' };

describe('issueCredential', () => {
  it('is short by default and records the issue (never the token)', async () => {
    const { authority, audit } = await setup();
    const token = await issueCredential(authority, ISSUE);
    const { payload } = parts(token);
    expect((payload.exp as number) - (payload.iat as number)).toBe(900);
    const event = audit.events.find((e) => e.type === 'identity' && e.action === 'issue');
    expect(event).toMatchObject({
      type: 'identity',
      action: 'issue',
      agent: 'support-bot',
      principal: 'user:42',
      credentialId: payload.jti,
      keyId: 'k1',
      tools: ['db.query'],
      audience: ['shop'],
      expiresAt: (payload.exp as number) * 1000,
    });
    expect(JSON.stringify(audit.events)).not.toContain(token.split('.')[2]);
  });

  it('never issues wider than the agent’s ceiling', async () => {
    const { authority } = await setup();
    expect(await code(issueCredential(authority, { ...ISSUE, tools: ['payments.charge'] }))).toBe(
      'OUT_OF_SCOPE',
    );
    expect(await code(issueCredential(authority, { ...ISSUE, tools: ['*'] }))).toBe('OUT_OF_SCOPE');
    expect(await code(issueCredential(authority, { ...ISSUE, tools: ['db*'] }))).toBe('OUT_OF_SCOPE');
    expect(await code(issueCredential(authority, { ...ISSUE, tools: ['payments.*'] }))).toBe('OUT_OF_SCOPE');
    expect(await code(issueCredential(authority, { ...ISSUE, principal: 'admin:1' }))).toBe('OUT_OF_SCOPE');
    expect(await code(issueCredential(authority, { ...ISSUE, ttl: '61m' }))).toBe('OUT_OF_SCOPE');
    expect(await code(issueCredential(authority, { ...ISSUE, agent: 'nobody' }))).toBe('UNKNOWN_AGENT');
    // Within: exact names, narrower globs, the ceiling itself, the longest life.
    for (const tools of [['db.query', 'payments.refund'], ['db.orders.*'], ['db.*'], ['db.*.read']]) {
      await issueCredential(authority, { ...ISSUE, tools, ttl: '1h' });
    }
    await expect(issueCredential(authority, { ...ISSUE, tools: [] })).rejects.toThrow(/non-empty/);
    await expect(issueCredential(authority, { ...ISSUE, extra: 1 } as never)).rejects.toThrow(
      /unknown option/,
    );
    await expect(issueCredential(authority, { ...ISSUE, principal: 'user:42 ' })).rejects.toThrow(
      /whitespace/,
    );
  });

  it('refuses a suspended or revoked agent, and a verify-only key set', async () => {
    const { authority, registry } = await setup();
    await registry.suspend('support-bot');
    expect(await code(issueCredential(authority, ISSUE))).toBe('AGENT_SUSPENDED');
    await registry.resume('support-bot');
    await issueCredential(authority, ISSUE);
    await registry.revoke('support-bot');
    expect(await code(issueCredential(authority, ISSUE))).toBe('AGENT_SUSPENDED');
    const verifyOnly = await createKeySet({ verify: authority.keys.jwks().keys });
    const { registry: fresh } = await setup();
    await expect(issueCredential({ keys: verifyOnly, registry: fresh }, ISSUE)).rejects.toThrow(
      /only verifies/,
    );
  });

  it('checks what a KMS signer returns', async () => {
    const { registry } = await setup();
    const inner = await generateSigningKey();
    const kms = { publicJwk: inner.publicJwk, sign: (data: Uint8Array) => inner.sign(data) };
    const keys = await createKeySet({ signing: kms });
    expect(keys.signingKeyId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const token = await issueCredential({ keys, registry }, ISSUE);
    expect((await verifyCredential({ keys, registry, audience: 'shop' }, token)).sub).toBe('support-bot');
    const other = await generateSigningKey();
    const wrong = await createKeySet({
      signing: { kid: 'kms', publicJwk: inner.publicJwk, sign: (d) => other.sign(d) },
    });
    await expect(issueCredential({ keys: wrong, registry }, ISSUE)).rejects.toThrow(/does not verify/);
    const garbage = await createKeySet({
      signing: { kid: 'kms', publicJwk: inner.publicJwk, sign: async () => new Uint8Array(3) },
    });
    await expect(issueCredential({ keys: garbage, registry }, ISSUE)).rejects.toThrow(/does not verify/);
  });
});

describe('delegateCredential', () => {
  it('only narrows: tools, life, principal, intent and session', async () => {
    const { authority, verifyOptions, clock } = await setup();
    const parent = await issueCredential(authority, {
      ...ISSUE,
      tools: ['db.*'],
      intent: 'ticket-1',
      session: 's-1',
      ttl: '30m',
    });
    const child = await delegateCredential(authority, parent, { tools: ['db.query'], ttl: '5m' });
    const claims = await verifyCredential(verifyOptions, child);
    const parentClaims = await verifyCredential(verifyOptions, parent);
    expect(claims).toMatchObject({
      sub: 'support-bot',
      principal: 'user:42',
      intent: 'ticket-1',
      session: 's-1',
      tools: ['db.query'],
      parent: parentClaims.jti,
      chain: [{ jti: parentClaims.jti, sub: 'support-bot', rev: 1 }],
      aud: 'shop',
    });
    expect(claims.exp).toBe(claims.iat + 300);
    expect(await code(delegateCredential(authority, parent, { tools: ['payments.refund'] }))).toBe(
      'OUT_OF_SCOPE',
    );
    expect(await code(delegateCredential(authority, parent, { tools: ['*'] }))).toBe('OUT_OF_SCOPE');
    expect(await code(delegateCredential(authority, child, { tools: ['db.*'] }))).toBe('OUT_OF_SCOPE');
    expect(await code(delegateCredential(authority, parent, { ttl: '31m' }))).toBe('OUT_OF_SCOPE');
    await expect(delegateCredential(authority, parent, { intent: 'other' } as never)).rejects.toThrow(
      /unknown option/,
    );
    // Without a ttl the child lives 15 minutes, cut to the parent's end.
    clock.advance(25 * 60_000);
    const late = await delegateCredential(authority, parent);
    const lateClaims = await verifyCredential(verifyOptions, late);
    expect(lateClaims.exp).toBe(parentClaims.exp);
    expect(lateClaims.tools).toEqual(['db.*']);
  });

  it('to a sub-agent: its own ceiling applies too', async () => {
    const { authority, registry, verifyOptions } = await setup();
    await registry.register('sql-helper', {
      owner: 'team:data',
      tools: ['db.query'],
      principals: ['user:4*'],
      maxTtl: '5m',
    });
    const parent = await issueCredential(authority, { ...ISSUE, tools: ['db.*', 'payments.refund'] });
    const child = await delegateCredential(authority, parent, { agent: 'sql-helper', tools: ['db.query'] });
    expect(await verifyCredential(verifyOptions, child)).toMatchObject({
      sub: 'sql-helper',
      principal: 'user:42',
    });
    expect(await code(delegateCredential(authority, parent, { agent: 'sql-helper', tools: ['db.*'] }))).toBe(
      'OUT_OF_SCOPE',
    );
    expect(
      await code(
        delegateCredential(authority, parent, { agent: 'sql-helper', tools: ['db.query'], ttl: '6m' }),
      ),
    ).toBe('OUT_OF_SCOPE');
    expect(await code(delegateCredential(authority, parent, { agent: 'ghost', tools: ['db.query'] }))).toBe(
      'UNKNOWN_AGENT',
    );
    const other = await issueCredential(authority, { ...ISSUE, principal: 'user:7' });
    expect(
      await code(delegateCredential(authority, other, { agent: 'sql-helper', tools: ['db.query'] })),
    ).toBe('OUT_OF_SCOPE');
    // Suspending the delegating agent stops the sub-agent's credential too.
    await registry.suspend('support-bot');
    expect(await code(verifyCredential(verifyOptions, child))).toBe('AGENT_SUSPENDED');
    await registry.resume('support-bot');
    await verifyCredential(verifyOptions, child);
    await registry.suspend('sql-helper');
    expect(await code(verifyCredential(verifyOptions, child))).toBe('AGENT_SUSPENDED');
    await verifyCredential(verifyOptions, parent);
  });

  it('revoking a credential revokes every descendant, grandchildren included, and nothing above it', async () => {
    const { authority, registry, verifyOptions, audit } = await setup();
    const root = await issueCredential(authority, { ...ISSUE, tools: ['db.*'] });
    const child = await delegateCredential(authority, root, { tools: ['db.*'] });
    const grandchild = await delegateCredential(authority, child, { tools: ['db.query'] });
    const sibling = await delegateCredential(authority, root, { tools: ['db.query'] });
    const childId = (await verifyCredential(verifyOptions, child)).jti;
    expect(await registry.revokeCredential(childId, { reason: 'leaked' })).toBe(true);
    expect(await code(verifyCredential(verifyOptions, child))).toBe('CREDENTIAL_REVOKED');
    expect(await code(verifyCredential(verifyOptions, grandchild))).toBe('CREDENTIAL_REVOKED');
    await verifyCredential(verifyOptions, root);
    await verifyCredential(verifyOptions, sibling);
    expect(await code(delegateCredential(authority, child))).toBe('CREDENTIAL_REVOKED');
    const rootId = (await verifyCredential(verifyOptions, root)).jti;
    await registry.revokeCredential(rootId);
    for (const token of [root, sibling, grandchild])
      expect(await code(verifyCredential(verifyOptions, token))).toBe('CREDENTIAL_REVOKED');
    expect(
      audit.events.filter((e) => e.type === 'identity').map((e) => (e as { action: string }).action),
    ).toEqual([
      'register',
      'issue',
      'delegate',
      'delegate',
      'delegate',
      'revoke-credential',
      'revoke-credential',
    ]);
  });

  it(`stops at ${MAX_DELEGATION_DEPTH} levels`, async () => {
    const { authority, verifyOptions } = await setup();
    let token = await issueCredential(authority, ISSUE);
    for (let i = 0; i < MAX_DELEGATION_DEPTH; i++) token = await delegateCredential(authority, token);
    expect((await verifyCredential(verifyOptions, token)).chain).toHaveLength(MAX_DELEGATION_DEPTH);
    expect(await code(delegateCredential(authority, token))).toBe('OUT_OF_SCOPE');
  });

  it('refuses an expired or forged parent', async () => {
    const { authority, clock } = await setup();
    const parent = await issueCredential(authority, { ...ISSUE, ttl: '1m' });
    clock.set(START + 3 * 60_000);
    expect(await code(delegateCredential(authority, parent))).toBe('CREDENTIAL_EXPIRED');
    expect(await code(delegateCredential(authority, `${parent}x`))).toBe('CREDENTIAL_INVALID');
  });
});
