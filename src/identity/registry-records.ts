import { parseDuration } from '../_internal/duration.ts';
import { ConfigurationError } from '../errors.ts';
import type { StateStore } from '../store/types.ts';
import { identityProblem, MAX_LIFETIME_MS, toolsProblem } from './claims.ts';
import { storeCall } from './registry-io.ts';
import type { AgentRecord, AgentStatus, RegisterAgentOptions } from './registry-types.ts';
import { credentialKey } from './revocation-keys.ts';

// How the registry stores agents and revocations in the StateStore, and checks registrations.

/** Registered agents (id → StoredAgent). */
export const AGENTS = 'identity.agents';
/** Issued credentials (id → agent, expiry), so a revocation entry can lapse with the credential. */
export const CREDENTIALS = 'identity.credentials';
/** Credential revocations, so lapsed entries can be removed from the store. */
export const REVOCATIONS = 'identity.revocations';

/** A registration as stored. */
export interface StoredAgent {
  owner: string;
  description?: string;
  tools: string[];
  principals: string[];
  maxTtlMs: number;
  revision: number;
  registeredAt: number;
  updatedAt: number;
}

/**
 * Removes revocation entries whose credential has expired (a store keeps suspensions that lapsed
 * until they are resumed; the memory store drops them itself, Redis keeps them in its hash).
 */
export async function sweep(store: StateStore, at: number): Promise<void> {
  const noted = await storeCall('list revocations', () => store.list(REVOCATIONS, at));
  for (const record of noted) {
    const until = (record.value as { until?: unknown }).until;
    if (typeof until === 'number' && until <= at) {
      await storeCall('remove a lapsed revocation', () => store.resume(credentialKey(record.id), at));
      await storeCall('remove a lapsed revocation', () => store.delete(REVOCATIONS, record.id));
    }
  }
}

export function toRecord(
  agent: string,
  stored: StoredAgent,
  entry: { readonly until?: number; readonly reason?: string } | undefined,
  status: AgentStatus,
): AgentRecord {
  const record: { -readonly [K in keyof AgentRecord]: AgentRecord[K] } = {
    agent,
    owner: stored.owner,
    tools: Object.freeze([...stored.tools]),
    principals: Object.freeze([...stored.principals]),
    maxTtl: stored.maxTtlMs,
    status,
    revision: stored.revision,
    registeredAt: stored.registeredAt,
    updatedAt: stored.updatedAt,
  };
  if (stored.description !== undefined) record.description = stored.description;
  if (status === 'suspended' && entry?.until !== undefined) record.suspendedUntil = entry.until;
  if (status !== 'active' && entry?.reason !== undefined) record.reason = entry.reason;
  return Object.freeze(record);
}

export function checkIdentity(value: unknown, what: string): void {
  const problem = identityProblem(value, what);
  if (problem !== undefined) throw new ConfigurationError(problem);
}

const REGISTRATION_KEYS = new Set(['owner', 'description', 'tools', 'principals', 'maxTtl']);

export function checkRegistration(
  options: RegisterAgentOptions,
): Omit<StoredAgent, 'revision' | 'registeredAt' | 'updatedAt'> {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('register() takes { owner, tools, principals, maxTtl, description? }');
  for (const key of Object.keys(options))
    if (!REGISTRATION_KEYS.has(key))
      throw new ConfigurationError(`register(): unknown option ${JSON.stringify(key)}`);
  checkIdentity(options.owner, 'owner');
  if (
    options.description !== undefined &&
    (typeof options.description !== 'string' || options.description.length > 1000)
  )
    throw new ConfigurationError('description must be a string of at most 1000 characters');
  const tools = toolsProblem(options.tools, 'tools');
  if (tools !== undefined) throw new ConfigurationError(tools);
  if (!Array.isArray(options.principals) || options.principals.length === 0)
    throw new ConfigurationError('principals must be a non-empty array of principal globs');
  for (const principal of options.principals) checkIdentity(principal, 'a principal glob');
  const maxTtlMs = parseDuration(options.maxTtl, 'maxTtl');
  if (maxTtlMs < 1000 || maxTtlMs > MAX_LIFETIME_MS)
    throw new ConfigurationError('maxTtl must be between 1 second and 30 days');
  return {
    owner: options.owner,
    ...(options.description === undefined ? {} : { description: options.description }),
    tools: [...options.tools].map((glob) => glob.normalize('NFC')),
    principals: [...options.principals],
    maxTtlMs,
  };
}
