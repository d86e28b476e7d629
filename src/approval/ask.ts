import { isThenable } from '../_internal/fail-closed.ts';
import type { ApprovalProvider, ApprovalRequest } from './types.ts';

/** How one round of asking a provider ended. */
export type AskOutcome =
  | { kind: 'answer'; value: unknown }
  | { kind: 'error'; error: unknown }
  | { kind: 'timeout' }
  | { kind: 'aborted' };

const MAX_TIMER_MS = 2_147_483_647;

/**
 * Asks a provider once. The first settlement wins: an answer, a throw or rejection, the timeout or
 * the caller's abort. Anything the provider delivers afterwards (a late answer, or a second answer
 * through `onLateResponse`) goes to `onLate`, to be recorded and otherwise ignored. Never throws.
 */
export function askProvider(
  provider: ApprovalProvider,
  request: ApprovalRequest,
  options: { timeoutMs: number; signal: AbortSignal | undefined; onLate: (value: unknown) => void },
): Promise<AskOutcome> {
  const { signal, onLate } = options;
  return new Promise<AskOutcome>((resolve) => {
    const controller = new AbortController();
    let settled = false;
    const finish = (outcome: AskOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      // Tell the provider to stop waiting (close prompts, drop pending entries).
      if (outcome.kind !== 'answer') controller.abort(new Error(`toolgate: approval ${outcome.kind}`));
      resolve(outcome);
    };
    const late = (value: unknown) => {
      try {
        onLate(value);
      } catch {
        // Recording a late answer must never affect anything else.
      }
    };
    const onAbort = () => finish({ kind: 'aborted' });
    const timer = setTimeout(() => finish({ kind: 'timeout' }), Math.min(options.timeoutMs, MAX_TIMER_MS));
    if (signal?.aborted) {
      finish({ kind: 'aborted' });
      return;
    }
    signal?.addEventListener('abort', onAbort, { once: true });
    let returned: unknown;
    try {
      returned = provider.request(request, {
        signal: controller.signal,
        onLateResponse: (value) => late(value),
      });
      if (!isThenable(returned)) {
        finish({ kind: 'answer', value: returned });
        return;
      }
      (returned as PromiseLike<unknown>).then(
        (value) => (settled ? late(value) : finish({ kind: 'answer', value })),
        (error: unknown) => {
          if (!settled) finish({ kind: 'error', error });
        },
      );
    } catch (error) {
      finish({ kind: 'error', error });
    }
  });
}
