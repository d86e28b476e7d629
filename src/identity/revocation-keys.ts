import type { CredentialClaims } from './claims.ts';

// Revocations and agent statuses are suspension entries of the StateStore, so the one atomic
// `admit` a guarded call already makes checks them too (no extra round trip), and a peek `admit`
// checks them for a standalone verification. The prefixes below are not suspension fields of
// `tg.suspend()`, so `tg.suspensions()` never lists them.

const CREDENTIAL = 'identity.credential=';
const AGENT = 'identity.agent=';
const AGENT_REVOKED = 'identity.agent-revoked=';
const REVISION = 'identity.agent-revision=';

/** The entry that revokes one credential (and with it, every credential delegated from it). */
export function credentialKey(jti: string): string {
  return CREDENTIAL + jti;
}

/** The entry that suspends an agent (lifted by `resume`). */
export function agentSuspendedKey(agent: string): string {
  return AGENT + agent;
}

/** The entry that revokes an agent for good (nothing lifts it). */
export function agentRevokedKey(agent: string): string {
  return AGENT_REVOKED + agent;
}

/** The entry that ends the credentials issued under one registration revision of an agent. */
export function revisionKey(agent: string, revision: number): string {
  return `${REVISION}${agent}#${revision}`;
}

/**
 * Every entry that, when in force, refuses a credential: its own id and its ancestors' (a
 * revoked parent revokes its descendants), and for its agent and every agent it was delegated
 * from, the revoked and suspended entries and its registration revision. Credential entries
 * come first, so a revoked credential of a suspended agent reports `CREDENTIAL_REVOKED`.
 */
export function revocationKeys(claims: CredentialClaims): readonly string[] {
  const keys = [credentialKey(claims.jti)];
  const agents: [string, number][] = [[claims.sub, claims.rev ?? 1]];
  for (const link of claims.chain ?? []) {
    keys.push(credentialKey(link.jti));
    agents.push([link.sub, link.rev]);
  }
  const seen = new Set<string>();
  for (const [agent, revision] of agents) {
    if (!seen.has(agent)) {
      seen.add(agent);
      keys.push(agentRevokedKey(agent), agentSuspendedKey(agent));
    }
    const key = revisionKey(agent, revision);
    if (!keys.includes(key)) keys.push(key);
  }
  return Object.freeze(keys);
}

/**
 * The deny code for a suspension key that refused a call (`AdmitResult.key`), or undefined when
 * the key is not an identity entry (then it is an ordinary `tg.suspend()` kill switch).
 */
export function revocationCode(key: string): 'CREDENTIAL_REVOKED' | 'AGENT_SUSPENDED' | undefined {
  if (key.startsWith(CREDENTIAL) || key.startsWith(REVISION)) return 'CREDENTIAL_REVOKED';
  if (key.startsWith(AGENT) || key.startsWith(AGENT_REVOKED)) return 'AGENT_SUSPENDED';
  return undefined;
}

/** Words for a refusing key, for `CredentialError.reason` and denial texts. */
export function revocationReason(key: string): string {
  if (key.startsWith(CREDENTIAL)) return `credential ${key.slice(CREDENTIAL.length)} was revoked`;
  if (key.startsWith(REVISION))
    return `agent ${key.slice(REVISION.length, key.lastIndexOf('#'))} was registered again with a narrower ceiling`;
  if (key.startsWith(AGENT_REVOKED)) return `agent ${key.slice(AGENT_REVOKED.length)} was revoked`;
  if (key.startsWith(AGENT)) return `agent ${key.slice(AGENT.length)} is suspended`;
  return `suspended: ${key}`;
}
