// Fields of a call's audit events that cost something to compute (`argsHash`: canonical JSON and
// SHA-256) are read through the event's class until someone outside the pipeline may see the
// event. They become own, enumerable properties (still computed on first read) when the event
// reaches a listener or a sink, except a sink that completes events itself when it hands them
// out (the memory sink: `sink.events`). A memory-only guard with no listeners never pays for them.

/** The method of an event that makes its computed fields own properties (idempotent). */
export const COMPLETE_EVENT: unique symbol = Symbol.for('toolgate.completeEvent') as never;

/** A sink marked with this (as `true`) completes the events it hands out itself. */
export const COMPLETES_EVENTS: unique symbol = Symbol.for('toolgate.completesEvents') as never;

/**
 * Makes the computed fields of a call event own, enumerable properties; other values are left
 * alone. Never throws: an object a sink was handed by someone else (a Proxy, say) stays as it is,
 * and a call event's fields still read through its class.
 */
export function completeEvent(event: unknown): void {
  if (typeof event !== 'object' || event === null) return;
  try {
    const complete = (event as { [COMPLETE_EVENT]?: unknown })[COMPLETE_EVENT];
    if (typeof complete === 'function') (complete as () => void).call(event);
  } catch {
    // Left as it is.
  }
}

/** Whether a sink completes the events it hands out (see `COMPLETES_EVENTS`). */
export function completesEvents(sink: object): boolean {
  return (sink as { [COMPLETES_EVENTS]?: unknown })[COMPLETES_EVENTS] === true;
}
