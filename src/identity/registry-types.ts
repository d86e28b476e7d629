import type { AuditSink } from '../audit/types.ts';
import type { StateStore } from '../store/types.ts';
import type { Duration } from '../types.ts';

/** An agent's registry status. `revoked` is permanent. */
export type AgentStatus = 'active' | 'suspended' | 'revoked';

/** The ceiling of what an agent may ever be given, for `registry.register`. */
export interface RegisterAgentOptions {
  /** Who answers for the agent (a team, a person). */
  readonly owner: string;
  readonly description?: string;
  /** Tool globs its credentials may cover. */
  readonly tools: readonly string[];
  /** Principal globs it may act for. */
  readonly principals: readonly string[];
  /** Longest credential life (at most 30 days). */
  readonly maxTtl: Duration;
}

/** An agent as the registry knows it. */
export interface AgentRecord {
  readonly agent: string;
  readonly owner: string;
  readonly description?: string;
  readonly tools: readonly string[];
  readonly principals: readonly string[];
  /** Longest credential life, ms. */
  readonly maxTtl: number;
  readonly status: AgentStatus;
  /** Registration revision: starts at 1, bumped when a registration narrows the ceiling. */
  readonly revision: number;
  readonly registeredAt: number;
  readonly updatedAt: number;
  /** When a suspension lapses by itself, epoch ms. */
  readonly suspendedUntil?: number;
  /** Why it was suspended or revoked. */
  readonly reason?: string;
}

/** Options of `registry.suspend`. */
export interface SuspendAgentOptions {
  readonly reason?: string;
  /** Lifts itself after this long; absent: until `resume`. */
  readonly for?: Duration;
}

/**
 * Agents, their ceilings and their status, kept in a StateStore: every process sharing the store
 * (Redis) sees the same registry, and a suspension or revocation refuses the agent's credentials
 * in all of them on their next verification.
 */
export interface AgentRegistry {
  /**
   * Registers an agent, or changes its registration (owner, description, ceiling; the status stays).
   * A new ceiling that does not cover the old one ends every credential issued under the old one.
   * A revoked agent cannot be registered again (`AGENT_SUSPENDED`).
   */
  register(agent: string, options: RegisterAgentOptions): Promise<AgentRecord>;
  get(agent: string): Promise<AgentRecord | undefined>;
  list(): Promise<AgentRecord[]>;
  /** Kill switch: every credential of the agent (and delegated from it) is refused until `resume`. */
  suspend(agent: string, options?: SuspendAgentOptions): Promise<AgentRecord>;
  resume(agent: string): Promise<AgentRecord>;
  /** Revokes the agent for good: its credentials are refused and it can never be registered again. */
  revoke(agent: string, options?: { readonly reason?: string }): Promise<AgentRecord>;
  /**
   * Revokes one credential and every credential delegated from it. Written whether or not the
   * registry issued it; resolves `true` when it did (then the entry lapses when the credential
   * would have expired anyway).
   */
  revokeCredential(jti: string, options?: { readonly reason?: string }): Promise<boolean>;
}

/** Options of `agentRegistry`. */
export interface AgentRegistryOptions {
  /** Where agents, statuses and revocations live: `memoryStore()` or `redisStore()`. */
  readonly store: StateStore;
  /** Where registry changes, issues and delegations are recorded. */
  readonly audit?: AuditSink | readonly AuditSink[];
  /** Clock, epoch ms. @default Date.now */
  readonly now?: () => number;
}
