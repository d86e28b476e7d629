import { randomBytes } from 'node:crypto';
import { parseDuration } from '../_internal/duration.ts';
import { ConfigurationError, CredentialError } from '../errors.ts';
import type { Duration } from '../types.ts';
import {
  type CredentialClaims,
  type CredentialLink,
  identityProblem,
  MAX_DELEGATION_DEPTH,
  toolsProblem,
} from './claims.ts';
import { type KeySet, keySetInternals } from './keys.ts';
import { type AgentRegistry, CREDENTIALS, MAX_SKEW_MS, registryInternals } from './registry.ts';
import { recordIdentity, storeCall } from './registry-io.ts';
import { globsOutside, matchesAny } from './scope.ts';
import { signToken } from './token.ts';
import { checkRevocation, refusal, skewOf, verifyToken } from './verify.ts';

/** Who issues: the key set that signs and the registry that holds the ceilings. */
export interface CredentialAuthority {
  readonly keys: KeySet;
  readonly registry: AgentRegistry;
}

/** What a credential grants, for `issueCredential`. */
export interface IssueCredentialOptions {
  /** The registered agent (becomes `sub`). */
  readonly agent: string;
  /** Who it acts for; must match one of the agent's principal globs. */
  readonly principal: string;
  readonly intent?: string;
  readonly session?: string;
  /** Tool globs, each within one of the agent's tool globs. */
  readonly tools: readonly string[];
  /** Life of the credential, at most the agent's `maxTtl`. @default '15m' */
  readonly ttl?: Duration;
  /** The service(s) that will verify it. */
  readonly audience: string | readonly string[];
}

/** What a child credential keeps of its parent, for `delegateCredential`. */
export interface DelegateCredentialOptions {
  /** The sub-agent it is for (registered; its own ceiling applies too). @default the parent's agent */
  readonly agent?: string;
  /** Tool globs, each within one of the parent's. @default the parent's */
  readonly tools?: readonly string[];
  /** Life, ending no later than the parent. @default '15m', cut to the parent's end */
  readonly ttl?: Duration;
}

/** Options of `delegateCredential` besides the authority. */
export interface DelegationAuthority extends CredentialAuthority {
  /** Clock difference tolerated when verifying the parent. @default '60s' */
  readonly clockSkew?: Duration;
}

const DEFAULT_TTL_MS = 15 * 60 * 1000;
const ISSUE_KEYS = new Set(['agent', 'principal', 'intent', 'session', 'tools', 'ttl', 'audience']);
const DELEGATE_KEYS = new Set(['agent', 'tools', 'ttl']);

/**
 * Issues a credential: a compact JWS (EdDSA) with `iss`, `aud`, `sub`, `principal`, `intent`,
 * `session`, `tools`, `iat`, `nbf`, `exp`, `jti`, never wider than the agent's registered ceiling
 * (`OUT_OF_SCOPE` otherwise), for an active agent. Recorded to the registry's audit sinks.
 *
 * @example
 * const token = await issueCredential({ keys, registry }, { agent: 'support-bot',
 *   principal: 'user:42', intent: 'ticket-123', tools: ['db.query'], ttl: '15m', audience: 'shop' });
 */
export async function issueCredential(
  authority: CredentialAuthority,
  options: IssueCredentialOptions,
): Promise<string> {
  const keys = keySetInternals(authority.keys);
  const registry = registryInternals(authority.registry);
  checkKeys(options, ISSUE_KEYS, 'issueCredential()');
  for (const field of ['agent', 'principal'] as const) check(identityProblem(options[field], field));
  for (const field of ['intent', 'session'] as const)
    if (options[field] !== undefined) check(identityProblem(options[field], field));
  check(toolsProblem(options.tools, 'tools'));
  const audience = typeof options.audience === 'string' ? [options.audience] : options.audience;
  if (!Array.isArray(audience) || audience.length === 0 || audience.length > 16)
    throw new ConfigurationError('audience must be a string or 1 to 16 strings');
  for (const item of audience) check(identityProblem(item, 'audience'));
  const ttlMs = ttlOf(options.ttl);
  const now = registry.now();
  const agent = await registry.requireActive(options.agent, now);
  outOfScope(globsOutside(options.tools, agent.tools), `tools outside the ceiling of agent ${options.agent}`);
  if (!matchesAny(options.principal, agent.principals))
    throw new CredentialError({
      code: 'OUT_OF_SCOPE',
      reason: `agent ${options.agent} may not act for principal ${JSON.stringify(options.principal)}`,
    });
  if (ttlMs > agent.maxTtlMs)
    throw new CredentialError({
      code: 'OUT_OF_SCOPE',
      reason: `ttl ${ttlMs} ms is longer than the ceiling of agent ${options.agent} (${agent.maxTtlMs} ms)`,
    });
  const iat = Math.floor(now / 1000);
  const claims: CredentialClaims = {
    iss: keys.issuer,
    aud: typeof options.audience === 'string' ? options.audience : [...audience],
    sub: options.agent,
    principal: options.principal,
    ...(options.intent === undefined ? {} : { intent: options.intent }),
    ...(options.session === undefined ? {} : { session: options.session }),
    tools: options.tools.map((glob) => glob.normalize('NFC')),
    rev: agent.revision,
    iat,
    nbf: iat,
    exp: Math.floor((now + ttlMs) / 1000),
    jti: randomBytes(16).toString('base64url'),
  };
  return sign(authority, claims, 'issue', now);
}

/**
 * A child credential that only narrows its parent: a subset of its tools, the same principal,
 * intent, session and audience, a life ending no later than the parent's, for the same agent or a
 * registered sub-agent (whose own ceiling applies too). The parent must verify and be live.
 * Revoking the parent (or any ancestor) revokes the child.
 *
 * @example
 * const child = await delegateCredential({ keys, registry }, token, { agent: 'sql-helper',
 *   tools: ['db.query'], ttl: '5m' });
 */
export async function delegateCredential(
  authority: DelegationAuthority,
  token: string,
  options: DelegateCredentialOptions = {},
): Promise<string> {
  const keys = keySetInternals(authority.keys);
  const registry = registryInternals(authority.registry);
  checkKeys(options, DELEGATE_KEYS, 'delegateCredential()');
  const now = registry.now();
  const verified = verifyToken(keys, token, undefined, skewOf(authority.clockSkew), now);
  if (!verified.ok) throw refusal(verified);
  const live = await checkRevocation(registry.store, verified.credential, now);
  if (!live.ok) throw refusal(live);
  const parent = verified.credential.claims;
  const chain: CredentialLink[] = [
    ...(parent.chain ?? []),
    { jti: parent.jti, sub: parent.sub, rev: parent.rev ?? 1 },
  ];
  if (chain.length > MAX_DELEGATION_DEPTH)
    throw new CredentialError({
      code: 'OUT_OF_SCOPE',
      reason: `delegation is limited to ${MAX_DELEGATION_DEPTH} levels`,
    });
  const agentName = options.agent ?? parent.sub;
  check(identityProblem(agentName, 'agent'));
  const tools = options.tools ?? parent.tools;
  check(toolsProblem(tools, 'tools'));
  outOfScope(globsOutside(tools, parent.tools), 'tools outside the parent credential');
  const agent = await registry.requireActive(agentName, now);
  outOfScope(globsOutside(tools, agent.tools), `tools outside the ceiling of agent ${agentName}`);
  if (!matchesAny(parent.principal, agent.principals))
    throw new CredentialError({
      code: 'OUT_OF_SCOPE',
      reason: `agent ${agentName} may not act for principal ${JSON.stringify(parent.principal)}`,
    });
  const parentEnd = parent.exp * 1000;
  let ttlMs: number;
  if (options.ttl === undefined) {
    ttlMs = Math.min(DEFAULT_TTL_MS, parentEnd - now, agent.maxTtlMs);
  } else {
    ttlMs = ttlOf(options.ttl);
    if (now + ttlMs > parentEnd)
      throw new CredentialError({
        code: 'OUT_OF_SCOPE',
        reason: 'a child credential cannot outlive its parent',
      });
    if (ttlMs > agent.maxTtlMs)
      throw new CredentialError({
        code: 'OUT_OF_SCOPE',
        reason: `ttl ${ttlMs} ms is longer than the ceiling of agent ${agentName} (${agent.maxTtlMs} ms)`,
      });
  }
  const iat = Math.floor(now / 1000);
  const exp = Math.min(Math.floor((now + ttlMs) / 1000), parent.exp);
  if (exp <= iat)
    throw new CredentialError({
      code: 'OUT_OF_SCOPE',
      reason: 'the parent credential has less than a second left',
    });
  const claims: CredentialClaims = {
    iss: keys.issuer,
    aud: parent.aud,
    sub: agentName,
    principal: parent.principal,
    ...(parent.intent === undefined ? {} : { intent: parent.intent }),
    ...(parent.session === undefined ? {} : { session: parent.session }),
    tools: tools.map((glob) => glob.normalize('NFC')),
    parent: parent.jti,
    chain,
    rev: agent.revision,
    iat,
    nbf: iat,
    exp,
    jti: randomBytes(16).toString('base64url'),
  };
  return sign(authority, claims, 'delegate', now);
}

/** Signs, notes the credential in the store (for revocation), records it, and only then hands it out. */
async function sign(
  authority: CredentialAuthority,
  claims: CredentialClaims,
  action: 'issue' | 'delegate',
  now: number,
): Promise<string> {
  const keys = keySetInternals(authority.keys);
  const registry = registryInternals(authority.registry);
  const keyId = keys.signer?.kid;
  const token = await signToken(keys, claims);
  const expMs = claims.exp * 1000;
  await storeCall('note the credential', () =>
    registry.store.put(
      CREDENTIALS,
      claims.jti,
      { agent: claims.sub, exp: expMs, ...(claims.parent === undefined ? {} : { parent: claims.parent }) },
      { now, ttlMs: expMs - now + MAX_SKEW_MS },
    ),
  );
  await recordIdentity(registry.sinks, {
    v: 1,
    id: registry.eventId(),
    ts: now,
    type: 'identity',
    action,
    agent: claims.sub,
    principal: claims.principal,
    ...(claims.intent === undefined ? {} : { intent: claims.intent }),
    ...(claims.session === undefined ? {} : { session: claims.session }),
    credentialId: claims.jti,
    ...(claims.parent === undefined ? {} : { parent: claims.parent }),
    ...(keyId === undefined ? {} : { keyId }),
    tools: claims.tools,
    audience: typeof claims.aud === 'string' ? [claims.aud] : claims.aud,
    expiresAt: expMs,
  });
  return token;
}

function ttlOf(ttl: Duration | undefined): number {
  if (ttl === undefined) return DEFAULT_TTL_MS;
  const ms = parseDuration(ttl, 'ttl');
  if (ms < 1000) throw new ConfigurationError('ttl must be at least 1 second');
  return ms;
}

function check(problem: string | undefined): void {
  if (problem !== undefined) throw new ConfigurationError(problem);
}

function checkKeys(options: object, known: Set<string>, what: string): void {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError(`${what} takes an options object`);
  for (const key of Object.keys(options))
    if (!known.has(key)) throw new ConfigurationError(`${what}: unknown option ${JSON.stringify(key)}`);
}

function outOfScope(outside: readonly string[], what: string): void {
  if (outside.length > 0)
    throw new CredentialError({
      code: 'OUT_OF_SCOPE',
      reason: `${what}: ${outside.map((glob) => JSON.stringify(glob)).join(', ')}`,
    });
}
