import { generateKeyPair, type KeyObject, sign as signBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { INVISIBLE_CHARACTER } from '../_internal/names.ts';
import { ConfigurationError } from '../errors.ts';
import { identityProblem } from './claims.ts';
import {
  type Ed25519PrivateJwk,
  type Ed25519PublicJwk,
  type JwkSet,
  jwkProblem,
  privateKeyObject,
  publicJwk,
  publicKeyObject,
  thumbprint,
} from './jwk.ts';

/**
 * An Ed25519 key that signs credentials. Made by `generateSigningKey()` or `importSigningKey()`
 * (the private key stays inside toolgate: it is not a property, so logging or serializing the
 * object shows the public key only), or written by the host around a KMS or HSM (`sign` calls it).
 */
export interface SigningKey {
  /** Key id, in the `kid` header of every credential it signs. */
  readonly kid: string;
  /** The public key, as published in the JWK Set. */
  readonly publicJwk: Ed25519PublicJwk;
  /** Signs the JWS signing input; resolves with the 64-byte Ed25519 signature. */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** A signer whose private key lives elsewhere (KMS, HSM). `kid` defaults to the RFC 7638 thumbprint. */
export interface ExternalSigner {
  readonly kid?: string;
  /** Its public Ed25519 key. */
  readonly publicJwk: Ed25519PublicJwk;
  sign(data: Uint8Array): Promise<Uint8Array>;
}

/** Options of `createKeySet`. */
export interface KeySetOptions {
  /** The key that signs new credentials. Without it the set only verifies. */
  readonly signing?: SigningKey | ExternalSigner;
  /** More keys that verify (older keys during a rotation, another issuer's public keys). */
  readonly verify?: readonly (Ed25519PublicJwk | SigningKey)[];
  /** The `iss` of credentials signed here, and the only one accepted. @default 'toolgate' */
  readonly issuer?: string;
}

/**
 * One signing key and the keys that verify. Credentials name their key in `kid`; a key's type is
 * fixed here (Ed25519), never read from a token.
 */
export interface KeySet {
  /** The `iss` written into and required of every credential. */
  readonly issuer: string;
  /** The kid of the current signing key, or undefined for a verify-only set. */
  readonly signingKeyId: string | undefined;
  /** The public JWK Set: every key that verifies, the signing key first. */
  jwks(): JwkSet;
  /**
   * Makes `next` the signing key. The previous one keeps verifying the credentials it signed until
   * `retire(kid)`; it can no longer sign (its private part is dropped from this set).
   */
  rotate(next: SigningKey | ExternalSigner): void;
  /**
   * Removes a verification key: credentials it signed are refused from now on (cached results
   * included). The current signing key cannot be retired; `false` when the kid is unknown.
   */
  retire(kid: string): boolean;
  /**
   * The JWK Set with the signing key's private part (`d`), for `importKeySet`. Only for a key made
   * by `generateSigningKey` or `importSigningKey`; an external signer is exported public only.
   * Write the result where only its owner can read it.
   */
  exportPrivate(): JwkSet<Ed25519PublicJwk | Ed25519PrivateJwk>;
}

/** Options of `generateSigningKey`. */
export interface GenerateSigningKeyOptions {
  /** Key id. @default the key's RFC 7638 thumbprint */
  readonly kid?: string;
}

/** The private halves of keys made here, out of reach of `JSON.stringify` and `console.log`. */
const privateKeys = new WeakMap<SigningKey, { readonly key: KeyObject; readonly d: string }>();

/** What verification and issue need from a key set. */
export interface KeySetInternals {
  readonly issuer: string;
  /** kid → public key. */
  readonly verifyKeys: Map<string, KeyObject>;
  signer:
    | {
        readonly kid: string;
        readonly sign: (data: Uint8Array) => Promise<Uint8Array>;
        readonly key: KeyObject;
      }
    | undefined;
  /** Bumped by `retire`: cached verifications of older generations are dropped. */
  generation: number;
  /** Verified tokens (see verify-token.ts). */
  readonly cache: Map<string, unknown>;
}

const internals = new WeakMap<KeySet, KeySetInternals>();

/** The internals of a key set made by `createKeySet`; throws for anything else. */
export function keySetInternals(keys: KeySet): KeySetInternals {
  const found = typeof keys === 'object' && keys !== null ? internals.get(keys) : undefined;
  if (found === undefined)
    throw new ConfigurationError('keys must be a key set from createKeySet() or importKeySet()');
  return found;
}

const generate = promisify(generateKeyPair);

/**
 * A new Ed25519 signing key.
 *
 * @example
 * const key = await generateSigningKey({ kid: 'k1' });
 * const keys = await createKeySet({ signing: key });
 */
export async function generateSigningKey(options: GenerateSigningKeyOptions = {}): Promise<SigningKey> {
  const { privateKey } = await generate('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as { x: string; d: string };
  return localKey(privateKey, jwk.x, jwk.d, options.kid);
}

/** A signing key from a private Ed25519 JWK (with `d`). */
export function importSigningKey(jwk: Ed25519PrivateJwk): SigningKey {
  const problem = jwkProblem(jwk, true);
  if (problem !== undefined) throw new ConfigurationError(`signing key: ${problem}`);
  return localKey(privateKeyObject(jwk), jwk.x, jwk.d, jwk.kid);
}

/** The private JWK of a key made by `generateSigningKey` or `importSigningKey`, or undefined. */
export function exportSigningKey(key: SigningKey): Ed25519PrivateJwk | undefined {
  const found = privateKeys.get(key);
  return found === undefined ? undefined : Object.freeze({ ...key.publicJwk, d: found.d });
}

function localKey(key: KeyObject, x: string, d: string, kid: string | undefined): SigningKey {
  const id = checkKid(kid ?? thumbprint(x));
  const signing: SigningKey = Object.freeze({
    kid: id,
    publicJwk: publicJwk(x, id),
    sign: async (data: Uint8Array) => new Uint8Array(signBytes(null, data, key)),
  });
  privateKeys.set(signing, { key, d });
  return signing;
}

function checkKid(kid: unknown): string {
  if (
    typeof kid !== 'string' ||
    kid.length === 0 ||
    kid.length > 128 ||
    INVISIBLE_CHARACTER.test(kid) ||
    /\s/u.test(kid)
  )
    throw new ConfigurationError(
      `a key id must be a non-empty string of at most 128 characters without spaces or control characters, got ${JSON.stringify(kid)}`,
    );
  return kid;
}

/**
 * A key set: one signing key (optional: without it the set only verifies) and any number of
 * verification keys.
 *
 * @example
 * const keys = await createKeySet({ signing: await generateSigningKey({ kid: 'k1' }) });
 * keys.rotate(await generateSigningKey({ kid: 'k2' }));   // k1 still verifies
 * keys.retire('k1');                                       // now it does not
 */
export async function createKeySet(options: KeySetOptions): Promise<KeySet> {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('createKeySet() takes { signing, verify?, issuer? }');
  for (const key of Object.keys(options))
    if (key !== 'signing' && key !== 'verify' && key !== 'issuer')
      throw new ConfigurationError(`createKeySet(): unknown option ${JSON.stringify(key)}`);
  const issuer = options.issuer ?? 'toolgate';
  if (typeof issuer !== 'string' || issuer.length === 0 || issuer.length > 256)
    throw new ConfigurationError('issuer must be a non-empty string');
  // Every credential carries it as `iss`, which is read as an identity: refused here, not at each verification.
  const issuerProblem = identityProblem(issuer, 'issuer');
  if (issuerProblem !== undefined) throw new ConfigurationError(issuerProblem);
  const state: KeySetInternals = {
    issuer,
    verifyKeys: new Map(),
    signer: undefined,
    generation: 0,
    cache: new Map(),
  };
  const published = new Map<string, Ed25519PublicJwk>();
  const addVerifier = (jwk: Ed25519PublicJwk, kidOverride?: string) => {
    const problem = jwkProblem(jwk, false);
    if (problem !== undefined) throw new ConfigurationError(`verification key: ${problem}`);
    const kid = checkKid(kidOverride ?? jwk.kid ?? thumbprint(jwk.x));
    if (state.verifyKeys.has(kid))
      throw new ConfigurationError(`two keys have the kid ${JSON.stringify(kid)}`);
    state.verifyKeys.set(kid, publicKeyObject(jwk.x));
    published.set(kid, publicJwk(jwk.x, kid));
    return kid;
  };
  const setSigner = (next: SigningKey | ExternalSigner) => {
    if (typeof next !== 'object' || next === null || typeof next.sign !== 'function')
      throw new ConfigurationError('a signing key needs { kid, publicJwk, sign }');
    const jwk = next.publicJwk;
    const problem = jwkProblem(jwk, false);
    if (problem !== undefined) throw new ConfigurationError(`signing key: ${problem}`);
    if ((jwk as { d?: unknown }).d !== undefined)
      throw new ConfigurationError('signing key: publicJwk must not contain the private key d');
    const kid = addVerifier(jwk, next.kid ?? jwk.kid ?? thumbprint(jwk.x));
    const sign = next.sign.bind(next);
    state.signer = { kid, sign, key: state.verifyKeys.get(kid)! };
    signingKey = next;
  };
  let signingKey: SigningKey | ExternalSigner | undefined;
  if (options.signing !== undefined) setSigner(options.signing);
  for (const key of options.verify ?? []) {
    const jwk = (key as SigningKey).publicJwk ?? (key as Ed25519PublicJwk);
    // A private JWK given to verify is reduced to its public half.
    addVerifier(
      { kty: jwk.kty, crv: jwk.crv, x: jwk.x, ...(jwk.kid === undefined ? {} : { kid: jwk.kid }) },
      (key as SigningKey).kid,
    );
  }

  const keySet: KeySet = {
    issuer,
    get signingKeyId() {
      return state.signer?.kid;
    },
    jwks() {
      const keys = [...published.values()];
      const first = state.signer?.kid;
      keys.sort((a, b) => Number(b.kid === first) - Number(a.kid === first));
      return Object.freeze({ keys: Object.freeze(keys) });
    },
    rotate(next) {
      setSigner(next);
    },
    retire(kid) {
      if (kid === state.signer?.kid)
        throw new ConfigurationError(
          `key ${JSON.stringify(kid)} signs new credentials: rotate before retiring it`,
        );
      if (!state.verifyKeys.delete(kid)) return false;
      published.delete(kid);
      state.generation += 1;
      state.cache.clear();
      return true;
    },
    exportPrivate() {
      const keys: (Ed25519PublicJwk | Ed25519PrivateJwk)[] = [];
      const own = signingKey === undefined ? undefined : exportSigningKey(signingKey as SigningKey);
      for (const jwk of keySet.jwks().keys) keys.push(own !== undefined && jwk.kid === own.kid ? own : jwk);
      return Object.freeze({ keys: Object.freeze(keys) });
    },
  };
  Object.freeze(keySet);
  internals.set(keySet, state);
  return keySet;
}

/** Options of `importKeySet`. */
export interface ImportKeySetOptions {
  /** The kid of the signing key, when the set holds more than one private key. */
  readonly signing?: string;
  /** @default 'toolgate' */
  readonly issuer?: string;
}

/**
 * A key set from a JWK Set (`keys.exportPrivate()`, or a public `keys.jwks()` for a verify-only
 * set). The key with a private part (`d`) signs; the others verify.
 */
export async function importKeySet(
  set: JwkSet<Ed25519PublicJwk | Ed25519PrivateJwk>,
  options: ImportKeySetOptions = {},
): Promise<KeySet> {
  if (typeof set !== 'object' || set === null || !Array.isArray(set.keys))
    throw new ConfigurationError('a JWK Set is an object with a keys array');
  const privates = set.keys.filter(
    (jwk) => typeof (jwk as { d?: unknown }).d === 'string',
  ) as Ed25519PrivateJwk[];
  let signing: Ed25519PrivateJwk | undefined;
  if (options.signing !== undefined) {
    signing = privates.find((jwk) => (jwk.kid ?? thumbprint(jwk.x)) === options.signing);
    if (signing === undefined)
      throw new ConfigurationError(`no private key with kid ${JSON.stringify(options.signing)} in the set`);
  } else if (privates.length > 1) {
    throw new ConfigurationError(
      'the set holds several private keys: name the signing one with { signing: kid }',
    );
  } else {
    signing = privates[0];
  }
  const verify = set.keys.filter((jwk) => jwk !== signing);
  return createKeySet({
    ...(signing === undefined ? {} : { signing: importSigningKey(signing) }),
    verify,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
  });
}
