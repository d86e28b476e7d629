import { parseDuration } from '../_internal/duration.ts';
import { CallFailure, callSafely, callSync } from '../_internal/fail-closed.ts';
import { checkedClock, isTime } from '../_internal/host-functions.ts';
import { ConfigurationError, CredentialError, type CredentialErrorCode, GuardError } from '../errors.ts';
import type { AdmitResult, StateStore, SyncAdmission } from '../store/types.ts';
import type { Awaitable, Duration } from '../types.ts';
import type { CredentialClaims } from './claims.ts';
import { type KeySet, type KeySetInternals, keySetInternals } from './keys.ts';
import { type AgentRegistry, MAX_SKEW_MS, registryInternals } from './registry.ts';
import { revocationCode, revocationReason } from './revocation-keys.ts';
import { checkToken, type VerifiedCredential } from './token.ts';

/** Options of `verifyCredential` and `credentialVerifier`. */
export interface VerifyCredentialOptions {
  readonly keys: KeySet;
  readonly registry: AgentRegistry;
  /** This service's name: the credential's `aud` must contain it. */
  readonly audience: string;
  /** Clock difference tolerated on `nbf`, `exp` and `iat` (at most 5 minutes). @default '60s' */
  readonly clockSkew?: Duration;
  /** Clock, epoch ms. @default the registry's */
  readonly now?: () => number;
}

/** The answer of a verification step: the credential, or why it is refused. */
export type CredentialCheck =
  | { readonly ok: true; readonly credential: VerifiedCredential }
  | {
      readonly ok: false;
      readonly code: CredentialErrorCode;
      readonly reason: string;
      readonly credentialId?: string;
    };

/**
 * Verification in two steps, for the guard's pipeline: `verify` (synchronous, cached per token)
 * before the policy, and the revocation entries (`credential.revocationKeys`) checked in the
 * call's own atomic store `admit`, or by `revocation` where there is none.
 */
export interface CredentialVerifier {
  readonly audience: string;
  /** Signature, header, claims, issuer, audience and time. Never touches the store. */
  verify(token: unknown, now: number): CredentialCheck;
  /** The registry and revocation check: one peek `admit` of the credential's entries. */
  revocation(credential: VerifiedCredential, now: number, signal?: AbortSignal): Awaitable<CredentialCheck>;
  /** The code and reason for a suspension key an `admit` refused with, or undefined if not an identity key. */
  denial(
    key: string,
  ): { readonly code: 'CREDENTIAL_REVOKED' | 'AGENT_SUSPENDED'; readonly reason: string } | undefined;
}

/** How long the store may take to answer a revocation check. */
const STORE_TIMEOUT_MS = 1_000;
const DEFAULT_SKEW_MS = 60_000;
const skews = new Map<Duration, number>();

/** A clock skew in ms (default 60 s, at most 5 minutes), parsed once per distinct value. */
export function skewOf(value: Duration | undefined): number {
  if (value === undefined) return DEFAULT_SKEW_MS;
  let ms = skews.get(value);
  if (ms === undefined) {
    ms = parseDuration(value, 'clockSkew');
    if (ms > MAX_SKEW_MS) throw new ConfigurationError('clockSkew must be at most 5 minutes');
    if (skews.size < 64) skews.set(value, ms);
  }
  return ms;
}

function checkAudience(audience: unknown): string {
  if (typeof audience !== 'string' || audience.length === 0)
    throw new ConfigurationError('audience must be a non-empty string (this service’s name)');
  return audience;
}

/**
 * Signature, header, claims, then audience (unless `undefined`) and time. Synchronous; the
 * signature is checked once per token and key set.
 */
export function verifyToken(
  state: KeySetInternals,
  token: unknown,
  audience: string | undefined,
  skewMs: number,
  now: number,
): CredentialCheck {
  const checked = checkToken(state, token);
  if (!checked.ok)
    return checked.credentialId === undefined
      ? { ok: false, code: 'CREDENTIAL_INVALID', reason: checked.reason }
      : { ok: false, code: 'CREDENTIAL_INVALID', reason: checked.reason, credentialId: checked.credentialId };
  const credential = checked.entry;
  const credentialId = credential.credentialId;
  // A NaN time compares false with everything: every check below would pass.
  if (!isTime(now))
    return { ok: false, code: 'CREDENTIAL_INVALID', reason: 'the clock answered no time', credentialId };
  if (now - skewMs >= credential.expiresAt) {
    state.cache.delete(token as string);
    return {
      ok: false,
      code: 'CREDENTIAL_EXPIRED',
      reason: `expired at ${iso(credential.expiresAt)}`,
      credentialId,
    };
  }
  if (now + skewMs < credential.notBefore)
    return {
      ok: false,
      code: 'CREDENTIAL_EXPIRED',
      reason: `not valid before ${iso(credential.notBefore)}`,
      credentialId,
    };
  if (now + skewMs < credential.issuedAt)
    return {
      ok: false,
      code: 'CREDENTIAL_INVALID',
      reason: `issued in the future (${iso(credential.issuedAt)})`,
      credentialId,
    };
  if (audience !== undefined && !credential.audiences.includes(audience))
    return {
      ok: false,
      code: 'CREDENTIAL_INVALID',
      reason: `not issued for audience ${JSON.stringify(audience)}`,
      credentialId,
    };
  return { ok: true, credential };
}

/**
 * One peek `admit` of the credential's revocation entries: atomic, and in every process sharing
 * the store it sees every revocation and suspension written before it. A store with synchronous
 * admission (the built-in memory store) answers in this process and, when nothing at all is
 * suspended, without looking; any throw or other answer there asks the store.
 */
export function checkRevocation(
  store: StateStore,
  credential: VerifiedCredential,
  now: number,
  signal?: AbortSignal,
): Awaitable<CredentialCheck> {
  const sync = callSync(syncAdmissionOf, store);
  if (
    sync !== undefined &&
    !(sync instanceof CallFailure) &&
    callSync(sync.nothingSuspended, undefined) === true
  )
    return { ok: true, credential };
  const outcome = callSafely(
    () => store.admit({ now, holder: 'identity', peek: true, suspensions: credential.revocationKeys }),
    { timeoutMs: STORE_TIMEOUT_MS, signal },
  );
  const answer = (result: Awaited<typeof outcome>): CredentialCheck => {
    if (!result.ok)
      throw new GuardError({
        code: 'STORE_UNAVAILABLE',
        message: `toolgate: the revocation check could not reach the state store (${result.reason})`,
        ...(result.reason === 'error' ? { cause: result.error } : {}),
      });
    const admitted = result.value as AdmitResult;
    if (admitted?.ok === true) return { ok: true, credential };
    const key = typeof admitted?.key === 'string' ? admitted.key : '';
    const code = revocationCode(key);
    if (admitted?.ok !== false || code === undefined)
      throw new GuardError({
        code: 'STORE_UNAVAILABLE',
        message: 'toolgate: the state store gave a malformed answer',
      });
    return { ok: false, code, reason: revocationReason(key), credentialId: credential.credentialId };
  };
  return outcome instanceof Promise ? outcome.then(answer) : answer(outcome);
}

/**
 * The two verification steps with their settings fixed (for a guard's `identity` option).
 *
 * @example
 * const verifier = credentialVerifier({ keys, registry, audience: 'shop' });
 * const checked = verifier.verify(token, Date.now());
 * if (checked.ok) admit.suspensions.push(...checked.credential.revocationKeys);
 */
export function credentialVerifier(options: VerifyCredentialOptions): CredentialVerifier {
  const state = keySetInternals(options.keys);
  const registry = registryInternals(options.registry);
  const audience = checkAudience(options.audience);
  const skewMs = skewOf(options.clockSkew);
  return Object.freeze({
    audience,
    verify: (token: unknown, now: number) => verifyToken(state, token, audience, skewMs, now),
    revocation: (credential: VerifiedCredential, now: number, signal?: AbortSignal) =>
      checkRevocation(registry.store, credential, now, signal),
    denial(key: string) {
      const code = typeof key === 'string' ? revocationCode(key) : undefined;
      return code === undefined ? undefined : Object.freeze({ code, reason: revocationReason(key) });
    },
  });
}

/**
 * Verifies an agent credential: signature (EdDSA with a key of the set, pinned by kid), header,
 * claims, issuer, audience, `nbf`/`exp`/`iat` within the clock skew, then the registry: the
 * credential, its ancestors and its agents not revoked or suspended (one store check, atomic,
 * seen across processes). Resolves with the claims, or throws `CredentialError`; throws
 * `GuardError` `STORE_UNAVAILABLE` when the store does not answer.
 *
 * @example
 * try { const claims = await verifyCredential({ keys, registry, audience: 'shop' }, token); }
 * catch (error) { if (CredentialError.isInstance(error)) return reply(401, error.code); throw error; }
 */
export async function verifyCredential(
  options: VerifyCredentialOptions,
  token: string,
): Promise<CredentialClaims> {
  const state = keySetInternals(options.keys);
  const registry = registryInternals(options.registry);
  const now = options.now === undefined ? registry.now() : checkedClock(options.now, 'verifyCredential')();
  const checked = verifyToken(state, token, checkAudience(options.audience), skewOf(options.clockSkew), now);
  if (!checked.ok) throw refusal(checked);
  const revoked = await checkRevocation(registry.store, checked.credential, now);
  if (!revoked.ok) throw refusal(revoked);
  return checked.credential.claims;
}

/** The error for a refused check. */
export function refusal(check: Extract<CredentialCheck, { ok: false }>): CredentialError {
  return new CredentialError({
    code: check.code,
    reason: check.reason,
    ...(check.credentialId === undefined ? {} : { credentialId: check.credentialId }),
  });
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function syncAdmissionOf(store: StateStore): SyncAdmission | undefined {
  return store.syncAdmission?.();
}
