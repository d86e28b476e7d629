import { dropPromise } from '../_internal/fail-closed.ts';
import { checkedClock } from '../_internal/host-functions.ts';
import { identityKey } from '../_internal/names.ts';
import { ConfigurationError } from '../errors.ts';
import type { StoreCapability } from '../store/capabilities.ts';
import type { StateStore, StoredRecord } from '../store/types.ts';
import { waitFor } from '../store/wait.ts';
import type { JsonObject, JsonValue } from '../types.ts';
import { responseProblem } from './messages.ts';
import { approverProblem, normalizeRequirements } from './requirements.ts';
import {
  type ApprovalBinding,
  type ApprovalSecret,
  approvalBinding,
  approvalSecret,
  sameBinding,
  signApprovalResponse,
  signPayload,
  verifyApprovalResponse,
  verifyPayload,
} from './token.ts';
import type { ApprovalProvider, ApprovalRequest, ApprovalResponse, RememberOptions } from './types.ts';

const PENDING = 'approvals';
/** Notified (where the store can notify) whenever a request joins or leaves the queue. */
export const QUEUE_CHANNEL = 'approvals';
const ANSWERS = 'approval-answers';
/** Answers signed a little before a request was listed still verify (clock skew between processes). */
const SKEW_MS = 60_000;

/**
 * What the approval queue needs of a store: records, single-use claims and notifications. Every
 * `StateStore` is one (`redisStore()`, `memoryStore()`); `approvalDirectory()` is one for a single
 * machine without a server.
 */
export type ApprovalStore = Pick<
  StateStore,
  'name' | 'put' | 'get' | 'list' | 'delete' | 'claim' | 'subscribe' | 'notify' | 'close'
>;

/** Options shared by `queueApprover` and `approvalQueue`. */
export interface ApprovalQueueOptions {
  /**
   * The store shared by the waiting guard and the answering process: a StateStore such as
   * `redisStore()`, or `approvalDirectory({ dir })` on one machine.
   */
  store: ApprovalStore;
  /** HMAC-SHA256 key (at least 32 bytes); pending requests and answers are signed with it. */
  secret: ApprovalSecret;
  /** Clock. @default Date.now */
  now?: () => number;
}

/** Options of `queueApprover`. */
export interface QueueApproverOptions extends ApprovalQueueOptions {
  /** @default 'queue' */
  name?: string;
  /** Re-read interval in case a store notification is lost, in ms. @default 1000 */
  pollMs?: number;
  /**
   * Called once a request is in the queue, where `approvalQueue().list()` and `toolgate approvals
   * list` see it: tell a person it waits (a chat message, a line on stderr). Its errors are ignored.
   */
  onPending?: (request: ApprovalRequest) => void;
}

/** A pending approval as listed. */
export interface PendingApproval {
  readonly id: string;
  /** What the approver is asked to decide (args are the redacted ones). */
  readonly request: ApprovalRequest;
  readonly binding: ApprovalBinding;
}

/** An answer given through `approvals.resolve()`; the request id is filled in. */
export type ApprovalAnswer =
  | { approved: true; approver: string; args?: JsonObject; remember?: RememberOptions }
  | { approved: false; approver: string; reason: string };

/** The answering side of `queueApprover`: list pending approvals and answer them. */
export interface ApprovalQueue {
  /** Pending approvals whose signature verifies, soonest expiry first. */
  list(): Promise<PendingApproval[]>;
  /** One pending approval whose signature verifies, or `undefined`. */
  get(id: string): Promise<PendingApproval | undefined>;
  /**
   * Answers a pending approval; the waiting call wakes. Throws when the request is unknown,
   * already answered, or the approver may not answer it (not among `approvers`, which holds for a
   * denial too; approving: the call's own principal under separation of duties, or already counted
   * in the quorum).
   */
  resolve(id: string, answer: ApprovalAnswer): Promise<void>;
}

interface Parts<K extends StoreCapability> {
  store: ApprovalStore & Required<Pick<ApprovalStore, K>>;
  key: Buffer;
  now: () => number;
}

function parts<K extends StoreCapability>(
  options: ApprovalQueueOptions,
  what: string,
  capabilities: readonly K[],
): Parts<K> {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError(`${what}() takes options`);
  const key = approvalSecret(options.secret, what);
  const store = options.store;
  if (
    typeof store !== 'object' ||
    store === null ||
    RECORD_METHODS.some((method) => typeof store[method] !== 'function')
  )
    throw new ConfigurationError(
      `${what}: store must be a StateStore or an approval store (${RECORD_METHODS.join(', ')})`,
    );
  // The optional capabilities of a StateStore this feature needs (src/store/capabilities.ts).
  const missing = capabilities.filter((name) => typeof store[name] !== 'function');
  if (missing.length > 0)
    throw new ConfigurationError(
      `${what}: the store ${JSON.stringify(store.name)} has no ${missing.join(', ')}, which it needs`,
    );
  const now = checkedClock(options.now ?? Date.now, what);
  return { store: store as Parts<K>['store'], key, now };
}

const RECORD_METHODS = ['put', 'get', 'list', 'delete'] as const;

const channelOf = (id: string) => `approval:${id}`;
/** Each quorum round is answered once: the claim key names the round. */
const roundOf = (request: ApprovalRequest) => request.approvedBy?.length ?? 0;

/**
 * An approval channel whose pending requests live in the StateStore, so another process (a web
 * app, a chat bot, the `toolgate approvals` CLI) can list and answer them with `approvalQueue()`.
 * The waiting call wakes when the answer is written (store notify, with polling as a fallback).
 * Requests and answers are signed with `secret` and each answer is bound to its request and
 * consumed once; without a secret this throws a ConfigurationError.
 *
 * @example
 * const store = redisStore({ client: new Redis() });
 * const tg = createGuard({ policy, store, approver: queueApprover({ store, secret }) });
 * // elsewhere: const approvals = approvalQueue({ store, secret }); await approvals.resolve(id, { approved: true, approver: 'user:7' });
 */
export function queueApprover(options: QueueApproverOptions): ApprovalProvider {
  // Waiting needs the store's channels; an answer is consumed once through a claim.
  const { store, key, now } = parts(options, 'queueApprover', ['claim', 'subscribe', 'notify']);
  const pollMs = options.pollMs ?? 1000;
  if (!(typeof pollMs === 'number' && pollMs > 0))
    throw new ConfigurationError('queueApprover: pollMs must be positive');
  return {
    name: options.name ?? 'queue',
    async request(request, { signal }): Promise<ApprovalResponse> {
      const binding = approvalBinding(request);
      const created = now();
      const ttlMs = Math.max(1, request.expiresAt - created);
      const token = signPayload('request', { request, binding }, key);
      const round = roundOf(request);
      await store.delete(ANSWERS, request.id);
      await store.put(PENDING, request.id, { token, round }, { now: created, ttlMs });
      await announce(store, `pending:${request.id}`);
      try {
        // Not awaited: an async one's rejection is handled, never unhandled.
        dropPromise(options.onPending?.(request));
      } catch {
        // Telling someone is a courtesy; the request waits in the queue either way.
      }
      try {
        return await waitFor(
          store,
          channelOf(request.id),
          async () => {
            const record = await store.get(ANSWERS, request.id, now());
            if (record === undefined) return undefined;
            const answer = (record.value as { token?: unknown } | null)?.token;
            const verified = verifyApprovalResponse(answer, key, {
              now: now(),
              maxAgeMs: ttlMs + SKEW_MS,
            });
            if (!verified.ok || !sameBinding(verified.payload.binding, binding)) {
              // Not ours or not genuine: throw it away and keep waiting for a real answer.
              await store.delete(ANSWERS, request.id);
              return undefined;
            }
            // Consumed exactly once, even if two waiters raced for it.
            if (
              !(await store.claim(`approval-consumed:${request.id}:${round}`, {
                now: now(),
                ttlMs: ttlMs + SKEW_MS,
              }))
            )
              return undefined;
            return verified.payload.response;
          },
          { signal, pollMs },
        );
      } finally {
        await Promise.allSettled([store.delete(PENDING, request.id), store.delete(ANSWERS, request.id)]);
        await announce(store, `settled:${request.id}`);
      }
    },
  };
}

/** Tells queue watchers (a console's inbox) that the queue changed; a lost notice only delays them. */
async function announce(store: ApprovalStore, message: string): Promise<void> {
  try {
    await store.notify?.(QUEUE_CHANNEL, message);
  } catch {
    // Watchers also poll; the call itself must not fail for this.
  }
}

/**
 * The answering side of `queueApprover`, for any process sharing its store and secret.
 *
 * @example
 * const approvals = approvalQueue({ store, secret });
 * for (const { id, request } of await approvals.list()) console.log(id, request.tool, request.args);
 * await approvals.resolve(id, { approved: false, approver: 'user:7', reason: 'not today' });
 */
export function approvalQueue(options: ApprovalQueueOptions): ApprovalQueue {
  // An answer is given once (a claim) and wakes the waiting call (notify).
  const { store, key, now } = parts(options, 'approvalQueue', ['claim', 'notify']);

  const read = (record: StoredRecord | undefined): PendingApproval | undefined => {
    if (record === undefined) return undefined;
    const verified = verifyPayload('request', (record.value as { token?: unknown } | null)?.token, key);
    if (!verified.ok) return undefined;
    const payload = verified.payload as { request?: ApprovalRequest; binding?: ApprovalBinding } | null;
    const request = payload?.request;
    const binding = payload?.binding;
    if (
      request === undefined ||
      binding === undefined ||
      request.id !== record.id ||
      binding.requestId !== record.id
    )
      return undefined;
    return { id: record.id, request, binding };
  };

  return {
    async list() {
      const records = await store.list(PENDING, now());
      const pending: PendingApproval[] = [];
      for (const record of records) {
        const entry = read(record);
        if (entry !== undefined) pending.push(entry);
      }
      return pending.sort((a, b) => a.request.expiresAt - b.request.expiresAt || (a.id < b.id ? -1 : 1));
    },
    async get(id) {
      return typeof id === 'string' ? read(await store.get(PENDING, id, now())) : undefined;
    },
    async resolve(id, answer) {
      if (typeof id !== 'string' || id.length === 0)
        throw new TypeError('toolgate: resolve() takes a request id');
      const t = now();
      const entry = read(await store.get(PENDING, id, t));
      if (entry === undefined) throw new Error(`toolgate: no pending approval ${JSON.stringify(id)}`);
      const response = { requestId: id, ...answer } as ApprovalResponse;
      const problem = responseProblem(response);
      if (problem !== undefined) throw new TypeError(`toolgate: invalid answer: ${problem}`);
      // Checked here too, so a wrong approver is told at once and the request stays open for others.
      // A denial ends the call, so only those the approvers globs name may give one (separation of
      // duties is about approving: the principal may withdraw their own call).
      const requirements = normalizeRequirements(entry.request.requirements, 0);
      if (typeof requirements !== 'string') {
        const principal = response.approved ? entry.request.context.principal : undefined;
        const who = approverProblem(requirements, response.approver, principal);
        if (who !== undefined) throw new Error(`toolgate: ${who}`);
      }
      if (response.approved && entry.request.approvedBy?.includes(identityKey(response.approver)))
        throw new Error(`toolgate: ${response.approver} has already approved this request`);
      const round = roundOf(entry.request);
      const ttlMs = Math.max(1, entry.request.expiresAt - t) + SKEW_MS;
      if (!(await store.claim(`approval-answered:${id}:${round}`, { now: t, ttlMs })))
        throw new Error(`toolgate: approval ${JSON.stringify(id)} was already answered`);
      const token = signApprovalResponse(entry.binding, response, key, t);
      await store.put(ANSWERS, id, { token } as JsonValue, { now: t, ttlMs });
      await store.notify(channelOf(id), 'answered');
    },
  };
}
