import { randomBytes } from 'node:crypto';
import { checkedClock } from '../_internal/host-functions.ts';
import { type ApprovalQueue, approvalQueue, queueApprover } from '../approval/queue.ts';
import type { ApprovalSecret } from '../approval/token.ts';
import type { ApprovalProvider } from '../approval/types.ts';
import { ConfigurationError } from '../errors.ts';
import type { StateStore } from '../store/types.ts';

/** Options of `consoleApprover`. */
export interface ConsoleApproverOptions {
  /** The store the console reads (Redis to answer from another process). */
  store: StateStore;
  /**
   * HMAC key (at least 32 bytes) signing the pending requests and answers; give the console the
   * same one. Without it, a key kept in the store is used (see the console docs for what that means).
   */
  secret?: ApprovalSecret;
  /** Re-read interval in case a store notification is lost, in ms. @default 500 */
  pollMs?: number;
  /** Clock. @default Date.now */
  now?: () => number;
}

const KEY_COLLECTION = 'console:keys';
const KEY_ID = 'queue';
const CLAIM = 'console:queue-key';
const CLAIM_MS = 10_000;

/**
 * The queue key shared through the store when no secret is configured: the first process to need it
 * makes one (a single-use claim decides who), the others read it. Someone who can write to the
 * store can read it too, so it protects no more than the store does (as grants and suspensions).
 */
export async function storeKey(store: StateStore, now: () => number): Promise<string> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const record = await store.get(KEY_COLLECTION, KEY_ID, now());
    const key = (record?.value as { key?: unknown } | null | undefined)?.key;
    if (typeof key === 'string' && key.length >= 43) return key;
    // Stores without claims fall back to the first writer seen after a short settle.
    const won =
      typeof store.claim === 'function' ? await store.claim(CLAIM, { now: now(), ttlMs: CLAIM_MS }) : true;
    if (won) {
      const fresh = randomBytes(32).toString('base64url');
      await store.put(KEY_COLLECTION, KEY_ID, { key: fresh }, { now: now() });
      if (typeof store.claim === 'function') return fresh;
    }
    if (Date.now() > deadline) throw new Error('toolgate: the console queue key never appeared in the store');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Resolves the queue's secret: the configured one, or the store's key. */
export function secretSource(
  store: StateStore,
  secret: ApprovalSecret | undefined,
  now: () => number,
  what: string,
): () => Promise<ApprovalSecret> {
  if (typeof store !== 'object' || store === null || typeof store.put !== 'function')
    throw new ConfigurationError(`${what}: store must be a StateStore`);
  if (secret !== undefined) {
    // Checked now, so a short secret throws at construction.
    approvalQueue({ store, secret, now });
    return () => Promise.resolve(secret);
  }
  return () => storeKey(store, now);
}

/**
 * The approver for a guard whose approvals are answered in the console: pending requests go to the
 * store (`queueApprover` underneath: signed, bound to the call, consumed once), where every console
 * sharing that store lists them live. The approver recorded is the signed-in account's name.
 *
 * @example
 * const store = redisStore({ client: new Redis() });
 * const tg = createGuard({ policy, store, approver: consoleApprover({ store }) });
 * // elsewhere: toolgate console --store redis://127.0.0.1:6379 --accounts accounts.json
 */
export function consoleApprover(options: ConsoleApproverOptions): ApprovalProvider {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('consoleApprover() takes options with a store');
  const now = checkedClock(options.now ?? Date.now, 'consoleApprover');
  const secret = secretSource(options.store, options.secret, now, 'consoleApprover');
  const pollMs = options.pollMs ?? 500;
  return {
    name: 'console',
    async request(request, requestOptions) {
      const inner = queueApprover({
        store: options.store,
        secret: await secret(),
        now,
        pollMs,
        name: 'console',
      });
      return inner.request(request, requestOptions);
    },
  };
}

/** The answering side, for the console. */
export async function consoleQueue(
  store: StateStore,
  secret: () => Promise<ApprovalSecret>,
  now: () => number,
): Promise<ApprovalQueue> {
  return approvalQueue({ store, secret: await secret(), now });
}
