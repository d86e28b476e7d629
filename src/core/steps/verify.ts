import { IDENTITY_FIELDS } from '../../context.ts';
import type { VerifiedCredential } from '../../identity/token.ts';
import type { CredentialCheck } from '../../identity/verify.ts';
import { deny, withFailed } from '../../policy/evaluate.ts';
import type { DeepReadonly, DenyDecision, ToolContext } from '../../types.ts';
import type { Call, StepResult } from '../call.ts';
import type { GuardCore, IdentitySettings } from '../guard-core.ts';
import { invalidContext } from '../refusals.ts';

/**
 * The agent credential, with the guard's `identity` option (src/identity/ reached only through
 * its `CredentialVerifier`): signature, header, claims, issuer, audience and time (cached per
 * token), the tool within the credential's `tools`, and the host context agreeing with the
 * claims, which then set `agent`, `principal`, `intent`, `session`, `verified` and
 * `credentialId`. Revocation and suspension are checked in the limits step's atomic `admit`
 * when the registry shares the guard's store, here otherwise. The token itself is never put in
 * the context. `UNAUTHENTICATED`, `CREDENTIAL_INVALID`, `CREDENTIAL_EXPIRED`,
 * `CREDENTIAL_REVOKED`, `AGENT_SUSPENDED`, `OUT_OF_SCOPE`, `INVALID_CONTEXT`, `STORE_UNAVAILABLE`.
 */
export function verify(call: Call, core: GuardCore): StepResult | Promise<StepResult> {
  const identity = core.identity;
  const token = call.credential;
  if (identity === undefined) {
    // A credential from the scope (another guard's `withCredential`, or its tool calling this
    // guard's) is not this guard's to check; one passed with this very call cannot be honoured.
    if (call.credentialPerCall)
      return deny('CREDENTIAL_INVALID', 'this guard verifies no credentials (it has no identity option)');
    // Only this guard's verification makes a context verified (a call from inside another
    // guard's tool inherits that guard's context).
    if (call.context.verified !== undefined) call.context = unverified(call.context);
    return undefined;
  }
  if (token === undefined) {
    if (identity.require)
      return deny('UNAUTHENTICATED', `a credential is required to call ${call.tool.name}`);
    if (call.context.verified !== undefined) call.context = unverified(call.context);
    return undefined;
  }
  const checked = identity.verifier.verify(token, core.now());
  if (!checked.ok) return refused(checked);
  const credential = checked.credential;
  const context = verifiedContext(core, call.context, credential);
  if (typeof context === 'string') return invalidContext(context);
  // Set before the scope check, so a call outside the credential's tools is recorded with who
  // made it and with which credential.
  call.context = context;
  call.verified = credential;
  if (!credential.allows(call.tool.name))
    return withFailed(
      deny('OUT_OF_SCOPE', `credential ${credential.credentialId} does not cover tool ${call.tool.name}`),
      [
        {
          path: 'tool.name',
          expected: `one of the credential's tools (${credential.claims.tools.join(', ')})`,
          actual: call.tool.name,
        },
      ],
    );
  if (identity.sharedStore) {
    call.revocationKeys = credential.revocationKeys;
    return undefined;
  }
  return revoked(identity, credential, core.now(), call.signal);
}

/**
 * After an approval wait: the credential checked again, time and revocation, so a credential
 * that expired or was revoked (or whose agent was suspended) while a human decided never runs.
 */
export function verifyAgain(call: Call, core: GuardCore): StepResult | Promise<StepResult> {
  const identity = core.identity;
  const credential = call.verified;
  if (identity === undefined || credential === undefined || call.credential === undefined) return undefined;
  const now = core.now();
  const checked = identity.verifier.verify(call.credential, now);
  if (!checked.ok) return refused(checked);
  return revoked(identity, credential, now, call.signal);
}

/** The registry's answer for the credential, read in its store; an unreachable store denies. */
function revoked(
  identity: IdentitySettings,
  credential: VerifiedCredential,
  now: number,
  signal: AbortSignal | undefined,
): StepResult | Promise<StepResult> {
  let answer: CredentialCheck | PromiseLike<CredentialCheck>;
  try {
    answer = identity.verifier.revocation(credential, now, signal);
  } catch (error) {
    return storeDeny(error);
  }
  if (answer instanceof Promise) return answer.then(revocationDeny, storeDeny);
  return revocationDeny(answer as CredentialCheck);
}

function revocationDeny(check: CredentialCheck): DenyDecision | undefined {
  return check.ok ? undefined : refused(check);
}

/** The deny for a refused credential; a verifier's code outside the deny codes is `CREDENTIAL_INVALID`. */
function refused(check: Extract<CredentialCheck, { ok: false }>): DenyDecision {
  const code = check.code;
  return deny(
    code === 'CREDENTIAL_EXPIRED' || code === 'CREDENTIAL_REVOKED' || code === 'AGENT_SUSPENDED'
      ? code
      : 'CREDENTIAL_INVALID',
    check.reason,
  );
}

function storeDeny(error: unknown): DenyDecision {
  const message = error instanceof Error ? error.message.replace(/^toolgate: /, '') : String(error);
  return deny('STORE_UNAVAILABLE', message);
}

/**
 * The context with the credential's claims: a host-supplied identity field that differs is a
 * conflict (the string). Cached per credential and host context, so a warm call builds nothing.
 */
function verifiedContext(
  core: GuardCore,
  host: DeepReadonly<ToolContext>,
  credential: VerifiedCredential,
): DeepReadonly<ToolContext> | string {
  const cached = core.verifiedContexts.get(credential);
  if (cached !== undefined && cached.host === host) return cached.context;
  const claims = credential.claims;
  const claimed = {
    agent: claims.sub,
    principal: claims.principal,
    intent: claims.intent,
    session: claims.session,
  };
  const context: { -readonly [K in keyof ToolContext]: DeepReadonly<ToolContext>[K] } = {};
  for (const field of IDENTITY_FIELDS) {
    const given = host[field];
    const value = claimed[field];
    if (given !== undefined && given !== value)
      return `context.${field} ${JSON.stringify(given)} differs from the verified credential's ${
        value === undefined ? '(none)' : JSON.stringify(value)
      }`;
    if (value !== undefined) context[field] = value;
  }
  if (host.attributes !== undefined) context.attributes = host.attributes;
  context.verified = true;
  context.credentialId = credential.credentialId;
  const frozen = Object.freeze(context) as DeepReadonly<ToolContext>;
  core.verifiedContexts.set(credential, { host, context: frozen });
  return frozen;
}

/** A context without the fields only this guard's verification sets. */
function unverified(context: DeepReadonly<ToolContext>): DeepReadonly<ToolContext> {
  const { verified: _verified, credentialId: _credentialId, ...rest } = context;
  return Object.freeze(rest);
}
