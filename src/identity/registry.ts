import { parseDuration } from '../_internal/duration.ts';
import { checkedClock } from '../_internal/host-functions.ts';
import { newId } from '../_internal/ids.ts';
import type { AuditSink, IdentityEvent } from '../audit/types.ts';
import { ConfigurationError, CredentialError } from '../errors.ts';
import type { StateStore } from '../store/types.ts';
import { MAX_LIFETIME_MS } from './claims.ts';
import { auditSinks, recordIdentity, storeCall } from './registry-io.ts';
import {
  AGENTS,
  CREDENTIALS,
  checkIdentity,
  checkRegistration,
  REVOCATIONS,
  type StoredAgent,
  sweep,
  toRecord,
} from './registry-records.ts';
import type { AgentRecord, AgentRegistry, AgentRegistryOptions, AgentStatus } from './registry-types.ts';
import { agentRevokedKey, agentSuspendedKey, credentialKey, revisionKey } from './revocation-keys.ts';
import { globsOutside } from './scope.ts';

export { CREDENTIALS } from './registry-records.ts';
export type {
  AgentRecord,
  AgentRegistry,
  AgentRegistryOptions,
  AgentStatus,
  RegisterAgentOptions,
  SuspendAgentOptions,
} from './registry-types.ts';

/** The largest clock skew a verifier may allow; revocation entries outlive expiry by this much. */
export const MAX_SKEW_MS: number = 5 * 60 * 1000;

/** How often `revokeCredential` removes lapsed revocation entries. */
const SWEEP_EVERY_MS = 60_000;

/** What issue and verification need from a registry. */
export interface RegistryInternals {
  readonly store: StateStore;
  readonly now: () => number;
  readonly sinks: readonly AuditSink[];
  /** The registration, or undefined; throws STORE_UNAVAILABLE. */
  agent(agent: string): Promise<(StoredAgent & { readonly agent: string }) | undefined>;
  /** Refuses (throws CredentialError) unless the agent is registered and active. */
  requireActive(agent: string, now: number): Promise<StoredAgent & { readonly agent: string }>;
  /** A new audit event id. */
  eventId(): string;
}

const registries = new WeakMap<AgentRegistry, RegistryInternals>();

/** The internals of a registry made by `agentRegistry`; throws for anything else. */
export function registryInternals(registry: AgentRegistry): RegistryInternals {
  const found = typeof registry === 'object' && registry !== null ? registries.get(registry) : undefined;
  if (found === undefined) throw new ConfigurationError('registry must come from agentRegistry()');
  return found;
}

/**
 * The agent registry.
 *
 * @example
 * const registry = agentRegistry({ store: redisStore({ client }), audit: jsonlAudit({ path }) });
 * await registry.register('support-bot', { owner: 'team:support', tools: ['db.*'],
 *   principals: ['user:*'], maxTtl: '1h' });
 * await registry.suspend('support-bot', { reason: 'incident 42' });
 */
export function agentRegistry(options: AgentRegistryOptions): AgentRegistry {
  if (typeof options !== 'object' || options === null || typeof options.store?.admit !== 'function')
    throw new ConfigurationError('agentRegistry() needs { store } with a StateStore');
  for (const key of Object.keys(options))
    if (key !== 'store' && key !== 'audit' && key !== 'now')
      throw new ConfigurationError(`agentRegistry(): unknown option ${JSON.stringify(key)}`);
  const store = options.store;
  if (options.now !== undefined && typeof options.now !== 'function')
    throw new ConfigurationError('now must be a function returning epoch ms');
  const now = checkedClock(options.now ?? Date.now, 'agentRegistry');
  const sinks = auditSinks(options.audit);
  let lastSweep = Number.NEGATIVE_INFINITY;

  const event = (
    action: IdentityEvent['action'],
    at: number,
    fields: Omit<IdentityEvent, 'v' | 'id' | 'ts' | 'type' | 'action'>,
  ): IdentityEvent =>
    Object.freeze({ v: 1, id: newId(), ts: at, type: 'identity', action, ...fields }) as IdentityEvent;

  const read = async (agent: string) => {
    const record = await storeCall('read an agent', () => store.get(AGENTS, agent, now()));
    return record === undefined ? undefined : { ...(record.value as unknown as StoredAgent), agent };
  };

  const describe = async (agent: string, stored: StoredAgent): Promise<AgentRecord> => {
    const at = now();
    const entries = await storeCall('read suspensions', () => store.suspensions(at));
    const revoked = entries.find((entry) => entry.key === agentRevokedKey(agent));
    const suspended = entries.find((entry) => entry.key === agentSuspendedKey(agent));
    return toRecord(
      agent,
      stored,
      revoked ?? suspended,
      revoked !== undefined ? 'revoked' : suspended !== undefined ? 'suspended' : 'active',
    );
  };

  const existing = async (agent: string) => {
    checkIdentity(agent, 'agent');
    const stored = await read(agent);
    if (stored === undefined)
      throw new CredentialError({
        code: 'UNKNOWN_AGENT',
        reason: `agent ${JSON.stringify(agent)} is not registered`,
      });
    return stored;
  };

  const isRevoked = async (agent: string, at: number) => {
    const result = await storeCall('check the agent', () =>
      store.admit({ now: at, holder: 'identity', peek: true, suspensions: [agentRevokedKey(agent)] }),
    );
    return !result.ok;
  };

  const internals: RegistryInternals = {
    store,
    now,
    sinks,
    agent: read,
    eventId: newId,
    async requireActive(agent, at) {
      const stored = await existing(agent);
      const result = await storeCall('check the agent', () =>
        store.admit({
          now: at,
          holder: 'identity',
          peek: true,
          suspensions: [agentRevokedKey(agent), agentSuspendedKey(agent)],
        }),
      );
      if (!result.ok)
        throw new CredentialError({
          code: 'AGENT_SUSPENDED',
          reason: `agent ${JSON.stringify(agent)} is ${result.key === agentRevokedKey(agent) ? 'revoked' : 'suspended'}`,
        });
      return stored;
    },
  };

  const registry: AgentRegistry = {
    async register(agent, registration) {
      checkIdentity(agent, 'agent');
      const ceiling = checkRegistration(registration);
      const at = now();
      const previous = await read(agent);
      if (await isRevoked(agent, at))
        throw new CredentialError({
          code: 'AGENT_SUSPENDED',
          reason: `agent ${JSON.stringify(agent)} was revoked; revocation is permanent`,
        });
      const narrowed =
        previous !== undefined &&
        (globsOutside(previous.tools, ceiling.tools).length > 0 ||
          globsOutside(previous.principals, ceiling.principals).length > 0 ||
          ceiling.maxTtlMs < previous.maxTtlMs);
      const stored: StoredAgent = {
        ...ceiling,
        revision: previous === undefined ? 1 : previous.revision + (narrowed ? 1 : 0),
        registeredAt: previous?.registeredAt ?? at,
        updatedAt: at,
      };
      await storeCall('write the agent', () => store.put(AGENTS, agent, stored as never, { now: at }));
      if (narrowed) {
        // Credentials of the old revision may be wider than the new ceiling: all of them end now.
        // The entry lapses once the last of them would have expired anyway.
        await storeCall('end old credentials', () =>
          store.suspend(revisionKey(agent, previous.revision), {
            at,
            until: at + previous.maxTtlMs + MAX_SKEW_MS,
            reason: 'registered again with a narrower ceiling',
          }),
        );
      }
      await recordIdentity(
        sinks,
        event('register', at, {
          agent,
          owner: stored.owner,
          tools: stored.tools,
          principals: stored.principals,
          maxTtlMs: stored.maxTtlMs,
          revision: stored.revision,
          ...(narrowed ? { narrowed: true } : {}),
        }),
      );
      return describe(agent, stored);
    },

    async get(agent) {
      checkIdentity(agent, 'agent');
      const stored = await read(agent);
      return stored === undefined ? undefined : describe(agent, stored);
    },

    async list() {
      const at = now();
      const [records, entries] = await Promise.all([
        storeCall('list agents', () => store.list(AGENTS, at)),
        storeCall('read suspensions', () => store.suspensions(at)),
      ]);
      const byKey = new Map(entries.map((entry) => [entry.key, entry]));
      return records
        .map((record) => {
          const revoked = byKey.get(agentRevokedKey(record.id));
          const suspended = byKey.get(agentSuspendedKey(record.id));
          const status: AgentStatus = revoked ? 'revoked' : suspended ? 'suspended' : 'active';
          return toRecord(record.id, record.value as unknown as StoredAgent, revoked ?? suspended, status);
        })
        .sort((a, b) => (a.agent < b.agent ? -1 : a.agent > b.agent ? 1 : 0));
    },

    async suspend(agent, suspension = {}) {
      const stored = await existing(agent);
      const at = now();
      const entry: { at: number; until?: number; reason?: string } = { at };
      if (suspension.for !== undefined) {
        const ms = parseDuration(suspension.for, 'suspend for');
        if (ms <= 0) throw new ConfigurationError('suspend for must be a positive duration');
        entry.until = at + ms;
      }
      if (suspension.reason !== undefined) entry.reason = String(suspension.reason);
      await storeCall('suspend the agent', () => store.suspend(agentSuspendedKey(agent), entry));
      await recordIdentity(
        sinks,
        event('suspend', at, {
          agent,
          ...(entry.until === undefined ? {} : { until: entry.until }),
          ...(entry.reason === undefined ? {} : { reason: entry.reason }),
        }),
      );
      return describe(agent, stored);
    },

    async resume(agent) {
      const stored = await existing(agent);
      const at = now();
      const lifted = await storeCall('resume the agent', () => store.resume(agentSuspendedKey(agent), at));
      await recordIdentity(sinks, event('resume', at, { agent, lifted: lifted === true }));
      return describe(agent, stored);
    },

    async revoke(agent, revocation = {}) {
      const stored = await existing(agent);
      const at = now();
      const reason = revocation.reason === undefined ? undefined : String(revocation.reason);
      await storeCall('revoke the agent', () =>
        store.suspend(agentRevokedKey(agent), reason === undefined ? { at } : { at, reason }),
      );
      await recordIdentity(
        sinks,
        event('revoke', at, { agent, ...(reason === undefined ? {} : { reason }) }),
      );
      return describe(agent, stored);
    },

    async revokeCredential(jti, revocation = {}) {
      checkIdentity(jti, 'credential id');
      const at = now();
      const issued = await storeCall('read the credential', () => store.get(CREDENTIALS, jti, at));
      const known = issued !== undefined;
      const info = (issued?.value ?? {}) as { agent?: string; exp?: number };
      // A credential this registry issued cannot outlive its exp; one it does not know, the
      // longest life any credential may have.
      const until =
        known && typeof info.exp === 'number' ? info.exp + MAX_SKEW_MS : at + MAX_LIFETIME_MS + MAX_SKEW_MS;
      const reason = revocation.reason === undefined ? undefined : String(revocation.reason);
      await storeCall('revoke the credential', () =>
        store.suspend(credentialKey(jti), reason === undefined ? { at, until } : { at, until, reason }),
      );
      await storeCall('note the revocation', () => store.put(REVOCATIONS, jti, { until }, { now: at }));
      await recordIdentity(
        sinks,
        event('revoke-credential', at, {
          credentialId: jti,
          known,
          until,
          ...(typeof info.agent === 'string' ? { agent: info.agent } : {}),
          ...(reason === undefined ? {} : { reason }),
        }),
      );
      if (at - lastSweep >= SWEEP_EVERY_MS) {
        lastSweep = at;
        await sweep(store, at);
      }
      return known;
    },
  };
  Object.freeze(registry);
  registries.set(registry, internals);
  return registry;
}
