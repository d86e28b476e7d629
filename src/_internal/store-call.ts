import { GuardError } from '../errors.ts';
import type { Awaitable } from '../types.ts';
import { callSafely } from './fail-closed.ts';

/**
 * Runs one state-store operation outside a call's steps (the registry, grants, the kill switch)
 * through the fail-closed helper, within `timeoutMs`: any throw, timeout or rejection becomes a
 * `STORE_UNAVAILABLE` error naming `what`, so nothing rests on a store that did not answer and
 * nothing waits on it forever.
 */
export async function storeCall<T>(what: string, fn: () => Awaitable<T>, timeoutMs: number): Promise<T> {
  const result = await callSafely(() => fn(), { timeoutMs });
  if (result.ok) return result.value;
  throw new GuardError({
    code: 'STORE_UNAVAILABLE',
    message: `toolgate: the state store ${result.reason === 'timeout' ? `did not answer within ${timeoutMs} ms` : 'failed'} (${what})`,
    ...(result.reason === 'error' ? { cause: result.error } : {}),
  });
}
