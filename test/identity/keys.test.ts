import { describe, expect, it } from 'vitest';
import { CredentialError } from '../../src/errors.ts';
import {
  createKeySet,
  exportSigningKey,
  generateSigningKey,
  importKeySet,
  issueCredential,
  thumbprint,
  verifyCredential,
} from '../../src/identity/index.ts';
import { parts, setup } from './helpers.ts';

const ISSUE = { agent: 'support-bot', principal: 'user:42', tools: ['db.query'], audience: 'shop' };

describe('key sets', () => {
  it('rotation: old credentials verify until their key is retired', async () => {
    const { keys, authority, verifyOptions } = await setup();
    const old = await issueCredential(authority, ISSUE);
    await verifyCredential(verifyOptions, old);
    keys.rotate(await generateSigningKey({ kid: 'k2' }));
    expect(keys.signingKeyId).toBe('k2');
    expect(keys.jwks().keys.map((key) => key.kid)).toEqual(['k2', 'k1']);
    const fresh = await issueCredential(authority, ISSUE);
    expect(parts(fresh).header.kid).toBe('k2');
    await verifyCredential(verifyOptions, old);
    await verifyCredential(verifyOptions, fresh);
    expect(() => keys.retire('k2')).toThrow(/rotate before retiring/);
    expect(keys.retire('k1')).toBe(true);
    expect(keys.retire('k1')).toBe(false);
    const error = await verifyCredential(verifyOptions, old).catch((caught: unknown) => caught);
    expect(CredentialError.isInstance(error) && error.reason).toMatch(/unknown key id "k1"/);
    await verifyCredential(verifyOptions, fresh);
    expect(keys.jwks().keys.map((key) => key.kid)).toEqual(['k2']);
  });

  it('exports public keys by default, private ones only when asked, and imports them back', async () => {
    const { keys, signing, authority, registry } = await setup();
    const token = await issueCredential(authority, ISSUE);
    for (const shown of [JSON.stringify(signing), JSON.stringify(keys.jwks()), JSON.stringify(keys)]) {
      expect(shown).not.toContain('"d"');
    }
    expect(keys.jwks().keys[0]).toEqual({
      kty: 'OKP',
      crv: 'Ed25519',
      x: signing.publicJwk.x,
      kid: 'k1',
      alg: 'EdDSA',
      use: 'sig',
    });
    const exported = keys.exportPrivate();
    expect(exported.keys[0]).toHaveProperty('d', exportSigningKey(signing)!.d);
    const restored = await importKeySet(JSON.parse(JSON.stringify(exported)));
    expect(restored.signingKeyId).toBe('k1');
    await verifyCredential({ keys: restored, registry, audience: 'shop' }, token);
    await issueCredential({ keys: restored, registry }, ISSUE);
    // A public set imports as verify-only.
    const verifyOnly = await importKeySet(keys.jwks());
    expect(verifyOnly.signingKeyId).toBeUndefined();
    await verifyCredential({ keys: verifyOnly, registry, audience: 'shop' }, token);
    // After a rotation only the new signing key keeps its private half.
    keys.rotate(await generateSigningKey({ kid: 'k2' }));
    expect(
      keys
        .exportPrivate()
        .keys.filter((key) => 'd' in key)
        .map((key) => key.kid),
    ).toEqual(['k2']);
  });

  it('defaults kids to the RFC 7638 thumbprint and refuses bad keys', async () => {
    const key = await generateSigningKey();
    expect(key.kid).toBe(thumbprint(key.publicJwk.x));
    // RFC 8037 appendix A.3: the thumbprint of its example key.
    expect(thumbprint('11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo')).toBe(
      'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
    );
    await expect(createKeySet({ signing: key, verify: [key.publicJwk] })).rejects.toThrow(
      /two keys have the kid/,
    );
    await expect(createKeySet({ verify: [{ kty: 'RSA', n: 'x', e: 'AQAB' } as never] })).rejects.toThrow(
      /Ed25519/,
    );
    await expect(
      createKeySet({ verify: [{ kty: 'OKP', crv: 'Ed25519', x: 'short' } as never] }),
    ).rejects.toThrow(/32-byte/);
    await expect(
      createKeySet({ verify: [{ kty: 'OKP', crv: 'X25519', x: key.publicJwk.x } as never] }),
    ).rejects.toThrow();
    await expect(
      createKeySet({ signing: { kid: 'a', publicJwk: exportSigningKey(key)!, sign: key.sign } }),
    ).rejects.toThrow(/must not contain the private key/);
    await expect(generateSigningKey({ kid: 'has space' })).rejects.toThrow(/key id/);
    await expect(createKeySet({ signing: key, other: 1 } as never)).rejects.toThrow(/unknown option/);
    const two = { keys: [exportSigningKey(key)!, exportSigningKey(await generateSigningKey())!] };
    await expect(importKeySet(two)).rejects.toThrow(/several private keys/);
    expect((await importKeySet(two, { signing: key.kid })).signingKeyId).toBe(key.kid);
    const mismatched = { ...exportSigningKey(key)!, x: (await generateSigningKey()).publicJwk.x };
    await expect(importKeySet({ keys: [mismatched] })).rejects.toThrow(/does not belong/);
  });
});
