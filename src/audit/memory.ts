import { ConfigurationError } from '../errors.ts';
import { COMPLETES_EVENTS, completeEvent } from './event-fields.ts';
import type { AuditEvent, AuditSink } from './types.ts';

/** An audit sink that keeps events in an array. */
export interface MemoryAuditSink extends AuditSink {
  /**
   * Every event written, in order (at most `limit`). Read it again after more calls: reading it is
   * what makes the computed fields of new events (`argsHash`) own properties, for spreads,
   * `Object.keys` and deep equality. `event.argsHash` itself always reads.
   */
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
  if (!(Number.isSafeInteger(limit) && limit >= 0) && limit !== Number.POSITIVE_INFINITY)
    throw new ConfigurationError('memoryAudit limit must be a whole number of events (0 or more)');
  // Events at the end of `events` written since it was last read: they are completed on reading.
  let fresh = 0;
  const sink: MemoryAuditSink = {
    name: 'memory',
    get events() {
      if (fresh > 0) {
        for (let i = Math.max(0, events.length - fresh); i < events.length; i++) completeEvent(events[i]);
        fresh = 0;
      }
      return events;
    },
    write(event) {
      events.push(event);
      fresh += 1;
      if (events.length > limit) events.shift();
    },
    clear() {
      events.length = 0;
      fresh = 0;
    },
  };
  Object.defineProperty(sink, COMPLETES_EVENTS, { value: true });
  return sink;
}
