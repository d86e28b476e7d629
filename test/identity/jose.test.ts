import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import type { CredentialError } from '../../src/errors.ts';
import {
  createKeySet,
  delegateCredential,
  issueCredential,
  verifyCredential,
} from '../../src/identity/index.ts';
import { START, setup } from './helpers.ts';

describe('interop with jose', () => {
  it('jose verifies our credentials with the published JWK Set', async () => {
    const { authority, keys } = await setup();
    const token = await issueCredential(authority, {
      agent: 'support-bot',
      principal: 'user:42',
      intent: 'ticket-123',
      tools: ['db.*'],
      ttl: '15m',
      audience: 'shop',
    });
    const child = await delegateCredential(authority, token, { tools: ['db.query'], ttl: '5m' });
    const jwks = createLocalJWKSet(JSON.parse(JSON.stringify(keys.jwks())));
    for (const credential of [token, child]) {
      const { payload, protectedHeader } = await jwtVerify(credential, jwks, {
        issuer: 'toolgate',
        audience: 'shop',
        algorithms: ['EdDSA'],
        typ: 'toolgate+jwt',
        currentDate: new Date(START + 1000),
      });
      expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'toolgate+jwt', kid: 'k1' });
      expect(payload).toMatchObject({ sub: 'support-bot', principal: 'user:42', intent: 'ticket-123' });
    }
    // And jose refuses what we would refuse: the wrong audience.
    await expect(
      jwtVerify(token, jwks, { audience: 'billing', currentDate: new Date(START + 1000) }),
    ).rejects.toThrow();
  });

  for (const alg of ['EdDSA', 'Ed25519'] as const) {
    it(`we verify a jose-signed ${alg} credential with the right claims, and only that`, async () => {
      const { registry } = await setup();
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const jwk = { ...(await exportJWK(publicKey)), kid: 'jose-1' };
      const keys = await createKeySet({ verify: [jwk as never] });
      const now = Math.floor(START / 1000);
      const sign = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
        new SignJWT({ principal: 'user:42', tools: ['db.query'], ...claims })
          .setProtectedHeader({ alg, kid: 'jose-1', ...header })
          .setIssuer('toolgate')
          .setAudience('shop')
          .setSubject('support-bot')
          .setIssuedAt(now)
          .setNotBefore(now)
          .setExpirationTime(now + 300)
          .setJti(`jose-${alg}`)
          .sign(privateKey);
      const options = { keys, registry, audience: 'shop', now: () => START };
      const claims = await verifyCredential(options, await sign({}));
      expect(claims).toMatchObject({
        sub: 'support-bot',
        principal: 'user:42',
        tools: ['db.query'],
        jti: `jose-${alg}`,
      });
      const refused = async (token: string) =>
        (await verifyCredential(options, token).catch((error: unknown) => error)) as CredentialError;
      expect((await refused(await sign({ tools: undefined }))).code).toBe('CREDENTIAL_INVALID');
      expect((await refused(await sign({}, { typ: 'dpop+jwt' }))).code).toBe('CREDENTIAL_INVALID');
      expect((await refused(await sign({}, { kid: 'other' }))).reason).toMatch(/unknown key id/);
      // Revocation applies to a credential we did not issue, too.
      await registry.revokeCredential(`jose-${alg}`);
      expect((await refused(await sign({}))).code).toBe('CREDENTIAL_REVOKED');
    });
  }
});
