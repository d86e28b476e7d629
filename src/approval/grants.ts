import { describeError } from '../_internal/describe-error.ts';
import { callSafely } from '../_internal/fail-closed.ts';
import { storeCall } from '../_internal/store-call.ts';
import { ConfigurationError } from '../errors.ts';
import type { StateStore, StoredRecord } from '../store/types.ts';
import type { Awaitable, JsonObject, JsonValue, ToolRequest } from '../types.ts';
import { type GrantNeed, grantMeets } from './grant-approval.ts';
import { grantFromOptions, jsonOrUndefined } from './grant-options.ts';
import {
  collectionOf,
  fieldMatches,
  GLOB_COLLECTION,
  IDS,
  nameMatches,
  parseStored,
  type StoredGrant,
  toGrant,
  toolCollection,
} from './grant-records.ts';
import type {
  CompileWhen,
  Grant,
  GrantApproval,
  GrantCondition,
  GrantOptions,
  GrantsApi,
} from './grant-types.ts';

/** Outcome of looking for a grant for one call. */
export type GrantLookup = { ok: true; grant: Grant | undefined } | { ok: false; problem: string };

/** Settings of the grant manager. */
export interface GrantManagerOptions {
  readonly store: StateStore;
  readonly now: () => number;
  readonly generateId: () => string;
  /** How long a store operation may take before it fails (closed). */
  readonly storeTimeoutMs: number;
  /** The policy engine's condition compiler, when available; without it `when` is refused. */
  readonly compileWhen?: CompileWhen;
}

/**
 * Grants in the StateStore: issue, list, revoke, and the pipeline's lookup. A grant turns a
 * default deny (`NO_MATCHING_RULE`) or an `ask` into allow for calls in its scope; it never
 * overrides a deny rule (the pipeline never consults grants for other denials). A use is counted
 * atomically in the store before the call is allowed, so `maxUses` holds under concurrency and
 * across processes.
 */
export class GrantManager implements GrantsApi {
  /** Compiled conditions by grant id (JSON ones are compiled on demand; code ones only live here). */
  private readonly conditions = new Map<string, GrantCondition>();

  constructor(private readonly options: GrantManagerOptions) {}

  async issue(input: GrantOptions): Promise<Grant> {
    const now = this.options.now();
    const stored = grantFromOptions(input, now);
    const id = `g_${this.options.generateId()}`;
    if (input.when !== undefined) {
      const compile = this.options.compileWhen;
      if (compile === undefined)
        throw new ConfigurationError('grant: conditions (when) are not available in this build');
      this.conditions.set(id, compile(input.when, `grant ${id}`));
      const json = jsonOrUndefined(input.when);
      if (json === undefined) stored.localWhen = true;
      else stored.when = json;
    }
    await this.put(id, stored, now);
    return toGrant(id, stored, 0);
  }

  /**
   * Issues a grant from a remembered approval: exact names, scoped as the approver chose, carrying
   * who approved under which requirement (so it never answers an ask they could not have approved).
   */
  async remember(
    stored: Omit<StoredGrant, 'v' | 'source' | 'issuedAt' | 'exact'> & { approval: GrantApproval },
    when?: unknown,
  ): Promise<Grant> {
    const now = this.options.now();
    const id = `g_${this.options.generateId()}`;
    const full: StoredGrant = { v: 2, source: 'approval', exact: true, issuedAt: now, ...stored };
    if (when !== undefined) {
      const compile = this.options.compileWhen;
      if (compile === undefined) throw new Error('remember: scope.when is not available in this build');
      this.conditions.set(id, compile(when, `grant ${id}`));
      full.when = when as JsonValue;
    }
    await this.put(id, full, now);
    return toGrant(id, full, 0);
  }

  async list(): Promise<Grant[]> {
    const { store, now } = this.options;
    const t = now();
    const ids = await this.timed(() => store.list(IDS, t));
    const grants: Grant[] = [];
    await Promise.all(
      ids.map(async (entry) => {
        const collection = (entry.value as { c?: unknown } | null)?.c;
        if (typeof collection !== 'string') return;
        const record = await this.timed(() => store.get(collection, entry.id, t));
        const stored = parseStored(record?.value);
        if (record !== undefined && stored !== undefined)
          grants.push(toGrant(record.id, stored, record.uses));
      }),
    );
    return grants.sort((a, b) => a.issuedAt - b.issuedAt || (a.id < b.id ? -1 : 1));
  }

  async revoke(id: string): Promise<boolean> {
    if (typeof id !== 'string') throw new ConfigurationError('grants.revoke() takes a grant id');
    const { store, now } = this.options;
    this.conditions.delete(id);
    const entry = await this.timed(() => store.get(IDS, id, now()));
    const collection = (entry?.value as { c?: unknown } | null | undefined)?.c;
    if (typeof collection !== 'string') return false;
    const existed = await this.timed(() => store.delete(collection, id));
    await this.timed(() => store.delete(IDS, id));
    return existed;
  }

  /**
   * Finds a live grant covering `request` that meets `need` (src/approval/grant-approval.ts) and
   * counts one use of it (unless `peek`). Store failures come back as `ok: false`; the caller
   * denies (`STORE_UNAVAILABLE`).
   */
  async find(request: ToolRequest, peek: boolean, need: GrantNeed): Promise<GrantLookup> {
    const { store, storeTimeoutMs } = this.options;
    const candidates: { record: StoredRecord; stored: StoredGrant; collection: string }[] = [];
    for (const collection of [toolCollection(request.tool.name), GLOB_COLLECTION]) {
      const listed = await callSafely(() => store.list(collection, request.now), {
        timeoutMs: storeTimeoutMs,
      });
      if (!listed.ok) return { ok: false, problem: storeProblem(listed) };
      if (!Array.isArray(listed.value)) return { ok: false, problem: 'the store listed no array' };
      for (const record of listed.value as readonly StoredRecord[]) {
        const stored = parseStored(record?.value);
        if (stored === undefined || !(stored.expiresAt > request.now)) continue;
        if (grantMeets(stored, need) && this.covers(record.id, stored, request))
          candidates.push({ record, stored, collection });
      }
    }
    // The grant expiring first is used first; ties by id, so the choice never depends on store order.
    candidates.sort(
      (a, b) => a.stored.expiresAt - b.stored.expiresAt || (a.record.id < b.record.id ? -1 : 1),
    );
    for (const { record, stored, collection } of candidates) {
      const used = await callSafely(
        () =>
          store.use(collection, record.id, {
            now: request.now,
            max: stored.maxUses ?? Number.MAX_SAFE_INTEGER,
            peek,
          }),
        { timeoutMs: storeTimeoutMs },
      );
      if (!used.ok) return { ok: false, problem: storeProblem(used) };
      const result = used.value as { ok?: unknown; uses?: unknown } | undefined;
      if (result?.ok === true)
        return { ok: true, grant: toGrant(record.id, stored, Number(result.uses) || 0) };
    }
    return { ok: true, grant: undefined };
  }

  private covers(id: string, stored: StoredGrant, request: ToolRequest): boolean {
    const context = request.context;
    if (!nameMatches(stored.tool, request.tool.name, stored.exact)) return false;
    if (!fieldMatches(stored.agent, context.agent, stored.exact)) return false;
    if (!fieldMatches(stored.principal, context.principal, stored.exact)) return false;
    if (!fieldMatches(stored.intent, context.intent, stored.exact)) return false;
    if (stored.argsHash !== undefined && stored.argsHash !== request.argsHash) return false;
    if (stored.localWhen === true || stored.when !== undefined) {
      let condition = this.conditions.get(id);
      if (condition === undefined && stored.when !== undefined && this.options.compileWhen !== undefined) {
        try {
          condition = this.options.compileWhen(stored.when, `grant ${id}`);
          this.conditions.set(id, condition);
        } catch {
          return false;
        }
      }
      // Conditions held by another process cannot be checked here, so the grant does not apply.
      if (condition === undefined) return false;
      try {
        return condition(request) === true;
      } catch {
        return false;
      }
    }
    return true;
  }

  private async put(id: string, stored: StoredGrant, now: number): Promise<void> {
    const collection = collectionOf(stored);
    const options = { now, ttlMs: stored.expiresAt - now };
    const { store } = this.options;
    await this.timed(() => store.put(IDS, id, { c: collection }, options));
    await this.timed(() => store.put(collection, id, stored as unknown as JsonObject, options));
  }

  /**
   * One store operation outside a call's steps (issuing, listing, revoking, remembering), held to
   * `defaults.storeTimeout` like the steps' own: a store that never answers fails the operation
   * (a remembered approval's call goes on without its grant) instead of hanging it.
   */
  private timed<T>(operation: () => Awaitable<T>): Promise<T> {
    return storeCall('grants', operation, this.options.storeTimeoutMs);
  }
}

function storeProblem(result: { ok: false; reason: string; error?: unknown }): string {
  if (result.reason === 'timeout') return 'the state store did not answer in time';
  if (result.reason === 'error') return `the state store failed: ${describeError(result.error)}`;
  return 'the store operation was cancelled';
}
