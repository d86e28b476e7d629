import { ConfigurationError } from '../errors.ts';
import { COMPLETES_EVENTS, completeEvent } from './event-fields.ts';
import type { AuditEvent, AuditSink } from './types.ts';

/** An audit sink that keeps events in an array. */
export interface MemoryAuditSink extends AuditSink {
  /**
   * Every event written, in order (at most `limit`), always the same array. Read it again after
   * more calls: reading it is what brings in the events written since (with a `limit`) and makes
   * the computed fields of new events (`argsHash`) own properties, for spreads, `Object.keys` and
   * deep equality. `event.argsHash` itself always reads.
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
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  if (!(Number.isSafeInteger(limit) && limit >= 0) && limit !== Number.POSITIVE_INFINITY)
    throw new ConfigurationError('memoryAudit limit must be a whole number of events (0 or more)');
  const sink = limit === Number.POSITIVE_INFINITY ? unbounded() : bounded(limit);
  Object.defineProperty(sink, COMPLETES_EVENTS, { value: true });
  return sink;
}

/** Without a limit, events go straight into the array that `events` returns. */
function unbounded(): MemoryAuditSink {
  const events: AuditEvent[] = [];
  // Events at the end of `events` written since it was last read: they are completed on reading.
  let fresh = 0;
  return {
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
    },
    clear() {
      events.length = 0;
      fresh = 0;
    },
  };
}

/**
 * With a limit, writes go to a ring of `limit` slots, and reading `events` brings the array up to
 * date from it. Dropping the oldest event from the array itself on every write (`shift()`) cost
 * about as much as the rest of the write, twice per call.
 */
function bounded(limit: number): MemoryAuditSink {
  const events: AuditEvent[] = [];
  // Grown by writes up to `limit` slots (a large limit allocates nothing up front), then reused.
  const ring: AuditEvent[] = [];
  let next = 0;
  // Events written since `events` was last read (completed on reading).
  let fresh = 0;
  return {
    name: 'memory',
    get events() {
      if (fresh > 0) {
        // The newest `added` events sit just before `next` in the ring: append them, then drop
        // what no longer fits from the front in one splice.
        const added = Math.min(fresh, limit);
        for (let i = added; i > 0; i--) {
          const at = next - i;
          const event = ring[at < 0 ? at + limit : at]!;
          completeEvent(event);
          events.push(event);
        }
        if (events.length > limit) events.splice(0, events.length - limit);
        fresh = 0;
      }
      return events;
    },
    write(event) {
      if (limit === 0) return;
      if (ring.length < limit) ring.push(event);
      else ring[next] = event;
      next = next + 1 === limit ? 0 : next + 1;
      fresh += 1;
    },
    clear() {
      events.length = 0;
      ring.length = 0;
      next = 0;
      fresh = 0;
    },
  };
}
