import { sign } from 'node:crypto';
import { memoryAudit } from '../../src/audit/memory.ts';
import {
  agentRegistry,
  createKeySet,
  exportSigningKey,
  generateSigningKey,
  importSigningKey,
  type KeySet,
  type SigningKey,
} from '../../src/identity/index.ts';
import { memoryStore } from '../../src/store/memory.ts';
import type { StateStore } from '../../src/store/types.ts';
import { fakeClock } from '../../src/testing/fakes.ts';

export const START = Date.UTC(2026, 0, 5, 12);

/** A key set, a registry on a memory store with a memory audit, a fake clock and one agent. */
export async function setup(options: { store?: StateStore } = {}) {
  const clock = fakeClock(START);
  const store = options.store ?? memoryStore();
  const audit = memoryAudit();
  const signing = await generateSigningKey({ kid: 'k1' });
  const keys = await createKeySet({ signing });
  const registry = agentRegistry({ store, audit, now: clock.now });
  await registry.register('support-bot', {
    owner: 'team:support',
    tools: ['db.*', 'payments.refund'],
    principals: ['user:*'],
    maxTtl: '1h',
  });
  const authority = { keys, registry };
  const verifyOptions = { keys, registry, audience: 'shop' };
  return { clock, store, audit, signing, keys, registry, authority, verifyOptions };
}

export const base64url = (value: string | Uint8Array): string => Buffer.from(value).toString('base64url');

/** Signs any header and payload text with a signing key's private half (for crafted tokens). */
export function craft(key: SigningKey, header: unknown, payload: unknown): string {
  const h = base64url(typeof header === 'string' ? header : JSON.stringify(header));
  const p = base64url(typeof payload === 'string' ? payload : JSON.stringify(payload));
  const jwk = exportSigningKey(key)!;
  const signature = sign(null, Buffer.from(`${h}.${p}`), {
    key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d },
    format: 'jwk',
  });
  return `${h}.${p}.${base64url(signature)}`;
}

/** The parts of a compact token, decoded. */
export function parts(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h!, 'base64url').toString()),
    payload: JSON.parse(Buffer.from(p!, 'base64url').toString()),
  };
}

/** Valid claims for a crafted token at START. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const iat = Math.floor(START / 1000);
  return {
    iss: 'toolgate',
    aud: 'shop',
    sub: 'support-bot',
    principal: 'user:42',
    tools: ['db.query'],
    iat,
    nbf: iat,
    exp: iat + 600,
    jti: 'crafted-1',
    ...overrides,
  };
}

export async function otherKeys(kid = 'k1'): Promise<{ keys: KeySet; signing: SigningKey }> {
  const signing = await generateSigningKey({ kid });
  return { keys: await createKeySet({ signing }), signing };
}

export { importSigningKey };
