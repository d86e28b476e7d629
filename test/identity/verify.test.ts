import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { CredentialError } from '../../src/errors.ts';
import {
  createKeySet,
  credentialVerifier,
  issueCredential,
  verifyCredential,
} from '../../src/identity/index.ts';
import { base64url, claims, craft, otherKeys, parts, START, setup } from './helpers.ts';

async function refused(promise: Promise<unknown>): Promise<CredentialError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(CredentialError.isInstance(error), `expected a CredentialError, got ${String(error)}`).toBe(true);
  return error as CredentialError;
}

const SYMBOLS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The last symbol of a 64-byte signature carries 2 bits and 4 unused ones: set the lowest unused bit. */
function padBitSet(signature: string): string {
  return SYMBOLS[SYMBOLS.indexOf(signature.at(-1)!) ^ 1]!;
}

const ISSUE = {
  agent: 'support-bot',
  principal: 'user:42',
  intent: 'ticket-123',
  session: 's-1',
  tools: ['db.query'],
  ttl: '15m',
  audience: 'shop',
};

describe('verifyCredential', () => {
  it('verifies what issueCredential signed and returns its claims', async () => {
    const { authority, verifyOptions } = await setup();
    const token = await issueCredential(authority, ISSUE);
    const result = await verifyCredential(verifyOptions, token);
    const iat = Math.floor(START / 1000);
    expect(result).toEqual({
      iss: 'toolgate',
      aud: 'shop',
      sub: 'support-bot',
      principal: 'user:42',
      intent: 'ticket-123',
      session: 's-1',
      tools: ['db.query'],
      rev: 1,
      iat,
      nbf: iat,
      exp: iat + 900,
      jti: expect.any(String),
    });
    expect(Object.isFrozen(result)).toBe(true);
    expect(parts(token).header).toEqual({ alg: 'EdDSA', typ: 'toolgate+jwt', kid: 'k1' });
    // A warm verification hands out the same frozen claims.
    expect(await verifyCredential(verifyOptions, token)).toBe(result);
  });

  it('refuses a flipped signature byte, a signature of another key, and an unknown kid', async () => {
    const { authority, verifyOptions, registry } = await setup();
    const token = await issueCredential(authority, ISSUE);
    const [h, p, s] = token.split('.') as [string, string, string];
    const bytes = Buffer.from(s, 'base64url');
    bytes[10] = bytes[10]! ^ 1;
    const flipped = `${h}.${p}.${base64url(bytes)}`;
    expect((await refused(verifyCredential(verifyOptions, flipped))).reason).toMatch(
      /signature does not verify/,
    );

    // Another key set with the same kid: the signature does not verify with ours.
    const other = await otherKeys('k1');
    const foreign = await issueCredential({ keys: other.keys, registry }, ISSUE);
    const error = await refused(verifyCredential(verifyOptions, foreign));
    expect(error.code).toBe('CREDENTIAL_INVALID');
    expect(error.reason).toMatch(/signature/);
    // Nothing that failed its signature names a credential id.
    expect(error.credentialId).toBeUndefined();

    const unknown = craft((await otherKeys('k9')).signing, { alg: 'EdDSA', kid: 'k9' }, claims());
    expect((await refused(verifyCredential(verifyOptions, unknown))).reason).toMatch(/unknown key id "k9"/);
  });

  it('refuses alg none, HMAC with the public key, and every other alg, whatever the signature', async () => {
    const { verifyOptions, signing } = await setup();
    const payload = base64url(JSON.stringify(claims()));
    const none = `${base64url(JSON.stringify({ alg: 'none', kid: 'k1' }))}.${payload}.`;
    expect((await refused(verifyCredential(verifyOptions, none))).code).toBe('CREDENTIAL_INVALID');
    const noneSigned = `${base64url(JSON.stringify({ alg: 'none', kid: 'k1' }))}.${payload}.${base64url('x'.repeat(64))}`;
    expect((await refused(verifyCredential(verifyOptions, noneSigned))).reason).toMatch(/alg none/);

    // The classic confusion: HS256 keyed with the public key (raw bytes, the JWK, the x text).
    const x = signing.publicJwk.x;
    for (const secret of [
      Buffer.from(x, 'base64url'),
      Buffer.from(JSON.stringify(signing.publicJwk)),
      Buffer.from(x),
    ]) {
      const header = base64url(JSON.stringify({ alg: 'HS256', kid: 'k1' }));
      const mac = createHmac('sha256', secret).update(`${header}.${payload}`).digest();
      const forged = `${header}.${payload}.${base64url(mac)}`;
      expect((await refused(verifyCredential(verifyOptions, forged))).reason).toMatch(/HS256 is refused/);
    }
    // Any other alg is refused even when the Ed25519 signature over it is valid.
    for (const alg of ['ES256', 'RS256', 'PS256', 'Ed448', 'EDDSA', 'eddsa', 'HS512']) {
      const token = craft(signing, { alg, kid: 'k1' }, claims());
      expect((await refused(verifyCredential(verifyOptions, token))).code).toBe('CREDENTIAL_INVALID');
    }
    // The fully-specified name of the same algorithm is accepted.
    const fully = craft(signing, { alg: 'Ed25519', kid: 'k1' }, claims());
    expect((await verifyCredential(verifyOptions, fully)).jti).toBe('crafted-1');
  });

  it('refuses headers that bring a key or demand extensions, even when validly signed', async () => {
    const { verifyOptions, signing } = await setup();
    const attacker = await otherKeys('evil');
    const embedded = craft(
      attacker.signing,
      { alg: 'EdDSA', kid: 'k1', jwk: attacker.signing.publicJwk },
      claims(),
    );
    expect((await refused(verifyCredential(verifyOptions, embedded))).reason).toMatch(
      /never brings its own key/,
    );
    for (const extra of [
      { jku: 'https://evil.example/jwks' },
      { x5u: 'https://evil.example/cert' },
      { x5c: ['MIIB'] },
      { crit: ['exp'] },
      { b64: false },
      { zip: 'DEF' },
      { cty: 'JWT' },
      { enc: 'A128GCM' },
    ]) {
      const token = craft(signing, { alg: 'EdDSA', kid: 'k1', ...extra }, claims());
      expect((await refused(verifyCredential(verifyOptions, token))).code, JSON.stringify(extra)).toBe(
        'CREDENTIAL_INVALID',
      );
    }
    const wrongType = craft(signing, { alg: 'EdDSA', kid: 'k1', typ: 'at+jwt' }, claims());
    expect((await refused(verifyCredential(verifyOptions, wrongType))).reason).toMatch(/typ/);
    for (const typ of ['JWT', 'toolgate+jwt', 'application/toolgate+jwt']) {
      const token = craft(signing, { alg: 'EdDSA', kid: 'k1', typ }, claims({ jti: `t-${typ}` }));
      expect((await verifyCredential(verifyOptions, token)).jti).toBe(`t-${typ}`);
    }
  });

  it('refuses tampered claims, headers and payloads', async () => {
    const { authority, verifyOptions } = await setup();
    const token = await issueCredential(authority, ISSUE);
    const [h, p, s] = token.split('.') as [string, string, string];
    const { header, payload } = parts(token);
    const widened = base64url(JSON.stringify({ ...payload, tools: ['*'] }));
    const later = base64url(JSON.stringify({ ...payload, exp: (payload.exp as number) + 3600 }));
    const other = base64url(JSON.stringify({ ...payload, principal: 'user:1' }));
    const retyped = base64url(JSON.stringify({ ...header, typ: 'JWT' }));
    for (const tampered of [
      `${h}.${widened}.${s}`,
      `${h}.${later}.${s}`,
      `${h}.${other}.${s}`,
      `${retyped}.${p}.${s}`,
    ]) {
      expect((await refused(verifyCredential(verifyOptions, tampered))).reason).toMatch(
        /signature does not verify/,
      );
    }
  });

  it('refuses non-canonical base64url, other shapes, oversized tokens and duplicate members', async () => {
    const { authority, verifyOptions, signing } = await setup();
    const token = await issueCredential(authority, ISSUE);
    const [h, p, s] = token.split('.') as [string, string, string];
    const cases = [
      `${h}.${p}.${s}=`,
      `${h}=.${p}.${s}`,
      `${h}.${p}.${s.slice(0, -1)}${padBitSet(s)}`, // same bytes, a non-zero unused bit: not canonical
      `${h}.${p.replaceAll('-', '+').replaceAll('_', '/')}.${s}x`,
      ` ${token}`,
      `${token}\n`,
      `${h}.${p}`,
      `${h}.${p}.${s}.${s}`,
      `${h}..${s}`,
      `.${p}.${s}`,
      `${h}.${p}.`,
      `${token}${'A'.repeat(9000)}`,
    ];
    for (const bad of cases) {
      expect((await refused(verifyCredential(verifyOptions, bad))).code, bad.slice(0, 40)).toBe(
        'CREDENTIAL_INVALID',
      );
    }
    expect((await refused(verifyCredential(verifyOptions, `${token}${'A'.repeat(9000)}`))).reason).toMatch(
      /longer/,
    );
    // Duplicate members, signed: parsers disagree on which one wins, so neither does.
    const iat = Math.floor(START / 1000);
    const duplicated = `{"iss":"toolgate","aud":"shop","sub":"support-bot","principal":"user:42","tools":["db.query"],"tools":["*"],"iat":${iat},"nbf":${iat},"exp":${iat + 60},"jti":"d"}`;
    const dup = craft(signing, { alg: 'EdDSA', kid: 'k1' }, duplicated);
    expect((await refused(verifyCredential(verifyOptions, dup))).reason).toMatch(/twice/);
    const dupHeader = craft(signing, '{"alg":"EdDSA","kid":"k1","alg":"none"}', claims());
    expect((await refused(verifyCredential(verifyOptions, dupHeader))).reason).toMatch(/twice/);
    const invalidUtf8 = `${base64url(JSON.stringify({ alg: 'EdDSA', kid: 'k1' }))}.${base64url(Buffer.from([0x7b, 0xff, 0x7d]))}.${s}`;
    expect((await refused(verifyCredential(verifyOptions, invalidUtf8))).code).toBe('CREDENTIAL_INVALID');
    for (const value of [undefined, null, 42, {}, ['a']]) {
      expect((await refused(verifyCredential(verifyOptions, value as never))).code).toBe(
        'CREDENTIAL_INVALID',
      );
    }
  });

  it('refuses claims of the wrong shape, issuer or audience', async () => {
    const { verifyOptions, signing, keys, registry } = await setup();
    const bad: Record<string, unknown>[] = [
      { sub: undefined },
      { principal: '' },
      { principal: ' user:42' },
      { principal: 'user:\u200b42' },
      { principal: 'user:42\u034f' },
      { intent: 'refund\u3164' },
      { principal: 'user:42\u2800' },
      { tools: [] },
      { tools: 'db.query' },
      { tools: ['db query'] },
      { exp: 'tomorrow' },
      { exp: Math.floor(START / 1000) - 1 },
      { exp: Math.floor(START / 1000) + 31 * 86400 },
      { jti: undefined },
      { aud: [] },
      { parent: 'p' },
      { rev: 0 },
      { iss: 'someone-else' },
    ];
    for (const overrides of bad) {
      const token = craft(signing, { alg: 'EdDSA', kid: 'k1' }, claims(overrides));
      expect((await refused(verifyCredential(verifyOptions, token))).code, JSON.stringify(overrides)).toBe(
        'CREDENTIAL_INVALID',
      );
    }
    const token = craft(signing, { alg: 'EdDSA', kid: 'k1' }, claims({ aud: ['crm', 'shop'] }));
    expect((await verifyCredential(verifyOptions, token)).aud).toEqual(['crm', 'shop']);
    const error = await refused(verifyCredential({ ...verifyOptions, audience: 'billing' }, token));
    expect(error).toMatchObject({ code: 'CREDENTIAL_INVALID', credentialId: 'crafted-1' });
    expect(error.reason).toMatch(/audience "billing"/);
    // A key set with another issuer refuses tokens of this one, though the key is the same.
    const elsewhere = await createKeySet({ verify: [keys.jwks().keys[0]!], issuer: 'other' });
    expect(
      (await refused(verifyCredential({ keys: elsewhere, registry, audience: 'shop' }, token))).reason,
    ).toMatch(/issuer/);
  });

  it('refuses an expired credential when a clock answers no time (NaN compares false)', async () => {
    const { authority, verifyOptions, clock } = await setup();
    const token = await issueCredential(authority, { ...ISSUE, ttl: '10m' });
    clock.set(START + 3_600_000);
    const own = await verifyCredential({ ...verifyOptions, now: () => Number.NaN }, token).catch(
      (e: unknown) => e,
    );
    expect(own).toBeInstanceOf(TypeError);
    expect(String(own)).toMatch(/verifyCredential now\(\) answered NaN, not a finite number of epoch ms/);
    // The verifier's step itself, given NaN (as a host passing a time of its own could).
    const verifier = credentialVerifier(verifyOptions);
    expect(verifier.verify(token, Number.NaN)).toMatchObject({ ok: false, code: 'CREDENTIAL_INVALID' });
  });

  it('checks exp and nbf with the clock skew', async () => {
    const { authority, verifyOptions, clock, signing } = await setup();
    const token = await issueCredential(authority, { ...ISSUE, ttl: '10m' });
    const exp = START + 600_000;
    clock.set(exp + 59_000);
    await verifyCredential(verifyOptions, token);
    clock.set(exp + 60_000);
    const expired = await refused(verifyCredential(verifyOptions, token));
    expect(expired.code).toBe('CREDENTIAL_EXPIRED');
    expect(expired.reason).toMatch(/expired at/);
    // A tighter skew refuses earlier; a skew beyond 5 minutes is a configuration error.
    clock.set(exp + 5_000);
    expect((await refused(verifyCredential({ ...verifyOptions, clockSkew: '1s' }, token))).code).toBe(
      'CREDENTIAL_EXPIRED',
    );
    await expect(verifyCredential({ ...verifyOptions, clockSkew: '10m' }, token)).rejects.toThrow(
      /at most 5 minutes/,
    );

    const future = craft(
      signing,
      { alg: 'EdDSA', kid: 'k1' },
      claims({ nbf: Math.floor(START / 1000) + 120 }),
    );
    clock.set(START + 59_000);
    expect((await refused(verifyCredential(verifyOptions, future))).reason).toMatch(/not valid before/);
    clock.set(START + 61_000);
    await verifyCredential(verifyOptions, future);
    // Issued in the future beyond the skew: refused as malformed.
    clock.set(START - 61_000);
    const early = craft(
      signing,
      { alg: 'EdDSA', kid: 'k1' },
      claims({ jti: 'early', nbf: Math.floor(START / 1000) - 120 }),
    );
    expect((await refused(verifyCredential(verifyOptions, early))).reason).toMatch(/issued in the future/);
  });

  it('credentialVerifier: synchronous verify, revocation keys and the denial of a key', async () => {
    const { authority, verifyOptions, registry } = await setup();
    const token = await issueCredential(authority, ISSUE);
    const verifier = credentialVerifier(verifyOptions);
    const checked = verifier.verify(token, START);
    if (!checked.ok) throw new Error(checked.reason);
    const credential = checked.credential;
    expect(credential.allows('db.query')).toBe(true);
    expect(credential.allows('db.drop')).toBe(false);
    expect(credential.revocationKeys).toEqual([
      `identity.credential=${credential.credentialId}`,
      'identity.agent-revoked=support-bot',
      'identity.agent=support-bot',
      'identity.agent-revision=support-bot#1',
    ]);
    expect(verifier.verify(token, START)).toEqual(checked);
    expect(await verifier.revocation(credential, START)).toEqual({ ok: true, credential });
    await registry.revokeCredential(credential.credentialId);
    expect(await verifier.revocation(credential, START)).toMatchObject({
      ok: false,
      code: 'CREDENTIAL_REVOKED',
    });
    expect(verifier.denial(credential.revocationKeys[0]!)).toEqual({
      code: 'CREDENTIAL_REVOKED',
      reason: `credential ${credential.credentialId} was revoked`,
    });
    expect(verifier.denial('identity.agent=support-bot')?.code).toBe('AGENT_SUSPENDED');
    expect(verifier.denial('agent=support-bot')).toBeUndefined();
    expect(verifier.verify('nope', START)).toMatchObject({ ok: false, code: 'CREDENTIAL_INVALID' });
  });
});
