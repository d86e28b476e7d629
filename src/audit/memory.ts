import type { AuditEvent, AuditSink } from './types.ts';

/** An audit sink that keeps events in an array. */
export interface MemoryAuditSink extends AuditSink {
  /** Every event written, in order. */
  readonly events: AuditEvent[];
  /** Empties `events`. */
  clear(): void;
}

/**
 * Keeps audit events in memory (`sink.events`), for tests and small tools.
 * @param options.limit keep at most this many events, dropping the oldest. Default: unlimited.
 */
export function memoryAudit(options: { limit?: number } = {}): MemoryAuditSink {
  const events: AuditEvent[] = [];
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  return {
    name: 'memory',
    events,
    write(event) {
      events.push(event);
      if (events.length > limit) events.shift();
    },
    clear() {
      events.length = 0;
    },
  };
}
