import { callSafely } from '../_internal/fail-closed.ts';
import { newId } from '../_internal/ids.ts';
import { auditIncomplete, SHUTDOWN_TIMEOUT_MS } from '../_internal/shutdown.ts';
import type { AuditSink, ConsoleEvent } from '../audit/types.ts';
import type { JsonObject } from '../types.ts';
import type { SignedIn } from './accounts.ts';
import { HttpError } from './http.ts';

/** The fields of a console event besides the ones every event has. */
export type ActionFields = Partial<Pick<ConsoleEvent, 'target' | 'forCallId' | 'forTool' | 'reason'>> & {
  details?: JsonObject;
};

/**
 * Records console actions to the configured sinks. `requested` is written (durably where the sink
 * can) before anything happens, and a failure refuses the action (503): nothing done in the console
 * goes unrecorded. Outcomes are written after; a failure there is reported, the action stands.
 */
export class ActionLog {
  constructor(
    private readonly sinks: readonly AuditSink[],
    private readonly now: () => number,
    private readonly onError: (error: unknown) => void,
  ) {}

  async write(
    action: ConsoleEvent['action'],
    who: SignedIn | { name: string; role?: undefined },
    outcome: ConsoleEvent['outcome'],
    fields: ActionFields = {},
  ): Promise<void> {
    const event: { -readonly [K in keyof ConsoleEvent]: ConsoleEvent[K] } = {
      v: 1,
      id: newId(),
      ts: this.now(),
      type: 'console',
      action,
      account: who.name,
      outcome,
    };
    if (who.role !== undefined) event.role = who.role;
    for (const key of ['target', 'forCallId', 'forTool', 'reason', 'details'] as const) {
      if (fields[key] !== undefined) (event as Record<string, unknown>)[key] = fields[key];
    }
    const frozen = Object.freeze(event) as ConsoleEvent;
    try {
      for (const sink of this.sinks) {
        if (outcome === 'requested' && typeof sink.writeDurable === 'function')
          await sink.writeDurable(frozen);
        else await sink.write(frozen);
      }
    } catch (error) {
      this.onError(error);
      if (outcome === 'requested' || action === 'sign-in')
        throw new HttpError(503, 'the console cannot record actions right now; nothing was done');
    }
  }

  /**
   * Records `requested`, runs `act`, then records `ok`, or `refused` (an HttpError below 500, with
   * its message) or `failed`; the error is rethrown.
   */
  async perform<T>(
    action: ConsoleEvent['action'],
    who: SignedIn,
    fields: ActionFields,
    act: () => Promise<T>,
    done: ActionFields = fields,
  ): Promise<T> {
    await this.write(action, who, 'requested', fields);
    let result: T;
    try {
      result = await act();
    } catch (error) {
      const refused = error instanceof HttpError && error.status < 500;
      await this.write(action, who, refused ? 'refused' : 'failed', {
        ...fields,
        reason: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
    await this.write(action, who, 'ok', done);
    return result;
  }

  /**
   * Flushes every sink, each within 30 s; rejects (`AUDIT_UNAVAILABLE`) naming those that failed
   * or did not finish, after trying them all.
   */
  async flush(): Promise<void> {
    const failures: unknown[] = [];
    for (const sink of this.sinks) {
      const outcome = await callSafely(() => sink.flush?.(), { timeoutMs: SHUTDOWN_TIMEOUT_MS });
      if (outcome.ok) continue;
      const error =
        outcome.reason === 'error'
          ? outcome.error
          : new Error(`action sink ${sink.name} did not finish flushing within ${SHUTDOWN_TIMEOUT_MS} ms`);
      this.onError(error);
      failures.push(error);
    }
    if (failures.length > 0) throw auditIncomplete('flush', failures);
  }
}
