import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { decodeBase64url } from './base64url.ts';

/** A public Ed25519 key as a JWK (RFC 8037). */
export interface Ed25519PublicJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  /** The public key, base64url. */
  readonly x: string;
  readonly kid?: string;
  readonly alg?: 'EdDSA' | 'Ed25519';
  readonly use?: 'sig';
  readonly key_ops?: readonly string[];
}

/** A private Ed25519 key as a JWK: the public members plus `d`, the private key. */
export interface Ed25519PrivateJwk extends Ed25519PublicJwk {
  /** The private key, base64url. Keep it secret. */
  readonly d: string;
}

/** A JWK Set (RFC 7517 §5). */
export interface JwkSet<K = Ed25519PublicJwk> {
  readonly keys: readonly K[];
}

const KNOWN = new Set(['kty', 'crv', 'x', 'd', 'kid', 'alg', 'use', 'key_ops', 'ext']);

/** Returns why `value` is not an Ed25519 JWK (public, or private with `private`), or undefined. */
export function jwkProblem(value: unknown, wantPrivate: boolean): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'a JWK must be an object';
  const jwk = value as Record<string, unknown>;
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519')
    return 'only Ed25519 keys (kty "OKP", crv "Ed25519") are used';
  for (const key of Object.keys(jwk))
    if (!KNOWN.has(key)) return `unexpected JWK member ${JSON.stringify(key)}`;
  if (typeof jwk.x !== 'string' || decodeBase64url(jwk.x)?.length !== 32)
    return 'x must be the 32-byte public key in base64url';
  if (wantPrivate && (typeof jwk.d !== 'string' || decodeBase64url(jwk.d)?.length !== 32))
    return 'd must be the 32-byte private key in base64url';
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid.length === 0 || jwk.kid.length > 128))
    return 'kid must be a non-empty string of at most 128 characters';
  if (jwk.alg !== undefined && jwk.alg !== 'EdDSA' && jwk.alg !== 'Ed25519')
    return `alg ${JSON.stringify(jwk.alg)} is not an Ed25519 signature algorithm`;
  if (jwk.use !== undefined && jwk.use !== 'sig') return 'use must be "sig"';
  return undefined;
}

/** The RFC 7638 thumbprint of an Ed25519 key: SHA-256 of its required members, base64url. */
export function thumbprint(x: string): string {
  return createHash('sha256').update(`{"crv":"Ed25519","kty":"OKP","x":"${x}"}`).digest('base64url');
}

/** The public members of a key, with its kid, as published in a JWK Set. */
export function publicJwk(x: string, kid: string): Ed25519PublicJwk {
  return Object.freeze({ kty: 'OKP', crv: 'Ed25519', x, kid, alg: 'EdDSA', use: 'sig' });
}

/** A node:crypto public key from the public key bytes (base64url). */
export function publicKeyObject(x: string): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/** A node:crypto private key from a private JWK; checks that `d` belongs to `x`. */
export function privateKeyObject(jwk: Ed25519PrivateJwk): KeyObject {
  const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x: jwk.x, d: jwk.d }, format: 'jwk' });
  const derived = createPublicKey(key).export({ format: 'jwk' }) as { x?: string };
  if (derived.x !== jwk.x)
    throw new TypeError('toolgate: the private key d does not belong to the public key x');
  return key;
}
