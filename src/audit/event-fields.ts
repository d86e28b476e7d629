// Fields of a call's audit events that cost something to compute (`argsHash`: canonical JSON and
// SHA-256) are read through the event's class until someone outside the pipeline may see the
// event. They become own, enumerable properties (still computed on first read) when the event
// reaches a listener or a sink, except a sink that completes events itself when it hands them
// out (the memory sink: `sink.events`) or never hands them out and reads the fields through the
// class (the JSONL sink, which serializes them). A memory-only guard with no listeners never pays
// for them, and a JSONL-only one never pays for making them own properties.

/** The method of an event that makes its computed fields own properties (idempotent). */
export const COMPLETE_EVENT: unique symbol = Symbol.for('toolgate.completeEvent') as never;

/**
 * A sink marked with this (as `true`) completes the events it hands out itself, or never hands
 * them out and reads their computed fields through the class (`hasClassArgsHash`, `classArgsHash`).
 */
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

/**
 * Whether `event` is a call event whose `argsHash` is still read through its class (not yet an
 * own property): a sink that serializes events itself then reads it with `classArgsHash`.
 */
export function hasClassArgsHash(event: object): boolean {
  return (
    typeof (event as { [COMPLETE_EVENT]?: unknown })[COMPLETE_EVENT] === 'function' &&
    !Object.hasOwn(event, 'argsHash')
  );
}

/**
 * `argsHash` of a call event read through its class, even if an own property was added since:
 * the hash of the arguments the event was made with, which are frozen, so it reads the same now
 * as when the event was written. `undefined` when the class has no such field or it is no string.
 */
export function classArgsHash(event: object): string | undefined {
  const getter = argsHashGetter(Object.getPrototypeOf(event) as object | null);
  const hash = getter?.call(event);
  return typeof hash === 'string' ? hash : undefined;
}

// The getter of the last prototype asked about: events of one class share it.
let knownPrototype: object | null = null;
let knownGetter: (() => unknown) | undefined;

function argsHashGetter(prototype: object | null): (() => unknown) | undefined {
  if (prototype === knownPrototype) return knownGetter;
  let getter: (() => unknown) | undefined;
  for (let at = prototype; at !== null; at = Object.getPrototypeOf(at) as object | null) {
    const descriptor = Object.getOwnPropertyDescriptor(at, 'argsHash');
    if (descriptor !== undefined) {
      getter = descriptor.get;
      break;
    }
  }
  knownPrototype = prototype;
  knownGetter = getter;
  return getter;
}
