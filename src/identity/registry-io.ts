import { callSafely } from '../_internal/fail-closed.ts';
import { storeCall as callStore } from '../_internal/store-call.ts';
import type { AuditSink, IdentityEvent } from '../audit/types.ts';
import { GuardError } from '../errors.ts';
import type { Awaitable } from '../types.ts';

/** How long one store operation or audit write of the registry may take. */
export const REGISTRY_TIMEOUT_MS = 5_000;

/** One store operation of the registry, within `REGISTRY_TIMEOUT_MS` (src/_internal/store-call.ts). */
export function storeCall<T>(what: string, fn: () => Awaitable<T>): Promise<T> {
  return callStore(what, fn, REGISTRY_TIMEOUT_MS);
}

/** The registry's audit sinks, from its `audit` option. */
export function auditSinks(option: AuditSink | readonly AuditSink[] | undefined): readonly AuditSink[] {
  if (option === undefined) return [];
  const sinks = Array.isArray(option) ? option : [option as AuditSink];
  for (const sink of sinks)
    if (typeof sink !== 'object' || sink === null || typeof sink.write !== 'function')
      throw new TypeError('toolgate: audit must be an AuditSink or an array of them');
  return Object.freeze([...sinks]);
}

/**
 * Writes an identity event to every sink, durably where the sink can (`writeDurable`), and waits.
 * Throws `AUDIT_UNAVAILABLE` when one failed: the caller decides whether the change stands.
 */
export async function recordIdentity(sinks: readonly AuditSink[], event: IdentityEvent): Promise<void> {
  const failures: string[] = [];
  await Promise.all(
    sinks.map(async (sink) => {
      const result = await callSafely(
        () => (sink.writeDurable ? sink.writeDurable(event) : sink.write(event)),
        {
          timeoutMs: REGISTRY_TIMEOUT_MS,
        },
      );
      if (!result.ok)
        failures.push(`${sink.name}: ${result.reason === 'error' ? describe(result.error) : result.reason}`);
    }),
  );
  if (failures.length > 0)
    throw new GuardError({
      code: 'AUDIT_UNAVAILABLE',
      message: `toolgate: the identity event ${event.action} could not be recorded (${failures.join('; ')})`,
    });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
