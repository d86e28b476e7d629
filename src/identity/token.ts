import { verify as verifyBytes } from 'node:crypto';
import { compileGlob } from '../_internal/glob.ts';
import { decodeBase64url, encodeBase64url } from './base64url.ts';
import { type CredentialClaims, MAX_TOKEN_LENGTH, readClaims } from './claims.ts';
import type { KeySetInternals } from './keys.ts';
import { revocationKeys } from './revocation-keys.ts';
import { parseJsonObject } from './strict-json.ts';

/** The media type in the `typ` header of credentials (RFC 8725 §3.11 explicit typing). */
export const CREDENTIAL_TYP = 'toolgate+jwt';

/**
 * A credential whose signature, header and claims verified. The same frozen object is handed out
 * for the same token until it expires, so a warm verification allocates nothing.
 */
export interface VerifiedCredential {
  readonly claims: CredentialClaims;
  /** The credential id (`jti`). */
  readonly credentialId: string;
  /** The kid of the key that signed it. */
  readonly keyId: string;
  /** `nbf`, `exp` and `iat` in epoch ms. */
  readonly notBefore: number;
  readonly expiresAt: number;
  readonly issuedAt: number;
  /** `aud` as a list. */
  readonly audiences: readonly string[];
  /**
   * The StateStore suspension entries that refuse this credential when one is in force (its id
   * and its ancestors', its agents' statuses and registration revisions). A guard checks them in
   * the call's own atomic `admit`; `verifyCredential` checks them with a peek `admit`.
   */
  readonly revocationKeys: readonly string[];
  /** Whether the credential's `tools` cover `tool`. */
  allows(tool: string): boolean;
}

type TokenEntry = VerifiedCredential;

/** The answer of `checkToken`: a verified entry, or why the token is refused. */
export type TokenCheck =
  | { readonly ok: true; readonly entry: VerifiedCredential }
  | { readonly ok: false; readonly reason: string; readonly credentialId?: string };

/** Tokens kept per key set; past this, the oldest entry makes room. */
const CACHE_SIZE = 10_000;
const ALGORITHMS = new Set(['EdDSA', 'Ed25519']);
const HEADER_MEMBERS = new Set(['alg', 'kid', 'typ']);
const TYPES = new Set(['jwt', CREDENTIAL_TYP, `application/${CREDENTIAL_TYP}`, 'application/jwt']);
const encoder = new TextEncoder();

/** Signs claims as a compact JWS with the set's signing key. */
export async function signToken(state: KeySetInternals, claims: CredentialClaims): Promise<string> {
  const signer = state.signer;
  if (signer === undefined)
    throw new TypeError('toolgate: this key set only verifies: give it a signing key');
  const header = encodeBase64url(
    encoder.encode(JSON.stringify({ alg: 'EdDSA', typ: CREDENTIAL_TYP, kid: signer.kid })),
  );
  const payload = encodeBase64url(encoder.encode(JSON.stringify(claims)));
  const input = `${header}.${payload}`;
  const data = Buffer.from(input, 'latin1');
  const signature = await signer.sign(data);
  // A KMS answer is checked like any other value from outside: a wrong key or a garbled
  // signature fails here, at issue, instead of at every verification.
  if (
    !(signature instanceof Uint8Array) ||
    signature.length !== 64 ||
    !verifyBytes(null, data, signer.key, signature)
  )
    throw new TypeError(`toolgate: signing key ${signer.kid} returned a signature that does not verify`);
  const token = `${input}.${encodeBase64url(signature)}`;
  if (token.length > MAX_TOKEN_LENGTH)
    throw new TypeError(
      `toolgate: the credential would be ${token.length} characters (at most ${MAX_TOKEN_LENGTH})`,
    );
  return token;
}

/**
 * Verifies a compact JWS against a key set: shape, header (EdDSA only, a known `kid`, nothing that
 * brings its own key), signature, then claims. Verified tokens are cached until `retire()` or
 * until the cache needs the room; time, issuer and audience are the caller's checks.
 */
export function checkToken(state: KeySetInternals, token: unknown): TokenCheck {
  if (typeof token !== 'string') return fail('a credential is a string (compact JWS)');
  const cached = state.cache.get(token) as TokenEntry | undefined;
  if (cached !== undefined) return { ok: true, entry: cached };
  const checked = verifyToken(state, token);
  if (checked.ok) {
    if (state.cache.size >= CACHE_SIZE) state.cache.delete(state.cache.keys().next().value as string);
    state.cache.set(token, checked.entry);
  }
  return checked;
}

function verifyToken(state: KeySetInternals, token: string): TokenCheck {
  if (token.length > MAX_TOKEN_LENGTH) return fail(`longer than ${MAX_TOKEN_LENGTH} characters`);
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (
    first <= 0 ||
    second <= first + 1 ||
    second === token.length - 1 ||
    token.indexOf('.', second + 1) !== -1
  )
    return fail('not a compact JWS (three base64url parts separated by dots)');
  const headerBytes = decodeBase64url(token.slice(0, first));
  const payloadBytes = decodeBase64url(token.slice(first + 1, second));
  const signature = decodeBase64url(token.slice(second + 1));
  if (headerBytes === undefined || payloadBytes === undefined || signature === undefined)
    return fail('not canonical base64url');
  const header = parseJsonObject(headerBytes);
  if (header === undefined) return fail('the header is not a JSON object (or names a member twice)');
  const problem = headerProblem(header);
  if (problem !== undefined) return fail(problem);
  const kid = header.kid as string;
  const key = state.verifyKeys.get(kid);
  if (key === undefined) return fail(`unknown key id ${JSON.stringify(kid)}`);
  if (signature.length !== 64) return fail('an Ed25519 signature has 64 bytes');
  // The key's type is fixed by the key set (Ed25519); the header only had to agree with it.
  if (!verifyBytes(null, Buffer.from(token.slice(0, second), 'latin1'), key, signature))
    return fail('the signature does not verify');
  const raw = parseJsonObject(payloadBytes);
  if (raw === undefined) return fail('the claims are not a JSON object (or name a member twice)');
  const claims = readClaims(raw);
  const credentialId = typeof raw.jti === 'string' ? raw.jti : undefined;
  if (typeof claims === 'string') return fail(claims, credentialId);
  if (claims.iss !== state.issuer)
    return fail(`issuer ${JSON.stringify(claims.iss)} is not ${JSON.stringify(state.issuer)}`, credentialId);
  const globs = claims.tools.map(compileGlob);
  const entry: TokenEntry = Object.freeze({
    claims,
    credentialId: claims.jti,
    keyId: kid,
    notBefore: claims.nbf * 1000,
    expiresAt: claims.exp * 1000,
    issuedAt: claims.iat * 1000,
    audiences: typeof claims.aud === 'string' ? Object.freeze([claims.aud]) : claims.aud,
    revocationKeys: revocationKeys(claims),
    allows: (tool: string) => globs.some((glob) => glob.test(tool)),
  });
  return { ok: true, entry };
}

/** Why a protected header is refused (RFC 8725: pin the algorithm, never take a key from the token). */
function headerProblem(header: Record<string, unknown>): string | undefined {
  for (const name of Object.keys(header)) {
    if (!HEADER_MEMBERS.has(name))
      return name === 'jwk' || name === 'jku' || name === 'x5u' || name === 'x5c'
        ? `header ${name} is refused: a token never brings its own key`
        : name === 'crit'
          ? 'header crit is refused: no extension is understood'
          : `header member ${JSON.stringify(name)} is refused`;
  }
  const alg = header.alg;
  if (typeof alg !== 'string') return 'the header has no alg';
  if (!ALGORITHMS.has(alg)) {
    if (alg.toLowerCase() === 'none') return 'alg none is refused: credentials are always signed';
    if (/^HS/i.test(alg)) return `alg ${alg} is refused: HMAC with a public key is forgeable`;
    return `alg ${JSON.stringify(alg).slice(0, 40)} is refused: only EdDSA (Ed25519)`;
  }
  if (typeof header.kid !== 'string' || header.kid.length === 0) return 'the header has no kid';
  if (header.typ !== undefined && (typeof header.typ !== 'string' || !TYPES.has(header.typ.toLowerCase())))
    return `typ ${JSON.stringify(header.typ).slice(0, 40)} is not a credential type`;
  return undefined;
}

function fail(reason: string, credentialId?: string): TokenCheck {
  return credentialId === undefined ? { ok: false, reason } : { ok: false, reason, credentialId };
}
