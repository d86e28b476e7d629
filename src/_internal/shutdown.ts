import type { AuditDispatcher } from '../audit/dispatch.ts';
import { GuardError } from '../errors.ts';
import type { ShutdownOptions } from '../guard-types.ts';
import { errorParts } from './describe-error.ts';
import { parseDuration } from './duration.ts';
import { callSafely } from './fail-closed.ts';

/** The bound of `tg.flush()` and `tg.close()` without a `timeout`. */
export const SHUTDOWN_TIMEOUT_MS = 30_000;

function timeoutOf(options: ShutdownOptions | undefined, what: string): number {
  if (options === undefined || options === null) return SHUTDOWN_TIMEOUT_MS;
  const timeout = (options as ShutdownOptions).timeout;
  return timeout === undefined ? SHUTDOWN_TIMEOUT_MS : parseDuration(timeout, `${what}({ timeout })`);
}

/**
 * `tg.flush()`: resolves once every audit sink has written and flushed what it was given; rejects
 * (`AUDIT_UNAVAILABLE`) naming each sink that could not, or did not within the timeout.
 */
export async function flushAudit(
  audit: AuditDispatcher,
  options: ShutdownOptions | undefined,
): Promise<void> {
  const shortfalls = await audit.flush(timeoutOf(options, 'flush'));
  if (shortfalls.length > 0)
    throw auditIncomplete(
      'flush',
      shortfalls.map((shortfall) => shortfall.error),
    );
}

/**
 * `tg.close()`: flushes and closes the audit sinks, then closes the approver and the policy engine,
 * each within the timeout. Everything is closed whatever fails; it then rejects
 * (`AUDIT_UNAVAILABLE`) when records may not all have been written. An approver or engine that
 * fails to close loses no record: that is an `error` event only.
 */
export async function closeGuard(
  audit: AuditDispatcher,
  others: readonly (readonly [source: string, closable: { close?(): unknown } | undefined])[],
  options: ShutdownOptions | undefined,
  emitError: (source: string, error: unknown) => void,
): Promise<void> {
  const timeoutMs = timeoutOf(options, 'close');
  const shortfalls = await audit.close(timeoutMs);
  for (const [source, closable] of others) {
    const outcome = await callSafely(() => closable?.close?.(), { timeoutMs });
    if (!outcome.ok)
      emitError(
        source,
        outcome.reason === 'error'
          ? outcome.error
          : new Error(`the ${source} did not close within ${timeoutMs} ms`),
      );
  }
  if (shortfalls.length > 0)
    throw auditIncomplete(
      'close',
      shortfalls.map((shortfall) => shortfall.error),
    );
}

/** The error of a flush or close after which records may be missing: what each sink reported. */
export function auditIncomplete(what: 'flush' | 'close', errors: readonly unknown[]): GuardError {
  return new GuardError({
    code: 'AUDIT_UNAVAILABLE',
    message: `toolgate: ${what} incomplete, audit records may be missing: ${errors.map((error) => errorParts(error).message).join('; ')}`,
    cause: errors.length === 1 ? errors[0] : new AggregateError(errors, `${errors.length} audit failures`),
  });
}
