import type { GuardWarningEvent } from '../events.ts';

// The guard's event emitter is private to src/guard.ts. Code that is not part of the pipeline
// (the framework adapters) reports wiring mistakes through this bridge, which emits `warning` on
// the guard and prints a process warning, each once per kind.

type Emit = (event: GuardWarningEvent) => void;

const emitters = new WeakMap<object, Emit>();
const reported = new WeakMap<object, Set<string>>();
const printed = new Set<string>();
// Stands in for the guard when a mistake is noticed outside any guard's call.
const NO_GUARD = {};

/** Called once by `createGuard`: lets `reportWarning` emit on this guard. */
export function registerWarnings(guard: object, emit: Emit): void {
  emitters.set(guard, emit);
}

/**
 * Reports a wiring mistake: a `warning` event on the guard once per code and tool, and a Node.js
 * process warning (`TOOLGATE_<code>`, printed to stderr) once per code and process. Never throws.
 */
export function reportWarning(guard: object | undefined, event: GuardWarningEvent): void {
  const target = guard ?? NO_GUARD;
  const key = `${event.code}\u0000${event.tool ?? ''}`;
  let seen = reported.get(target);
  if (seen === undefined) {
    seen = new Set();
    reported.set(target, seen);
  }
  if (seen.has(key)) return;
  seen.add(key);
  try {
    emitters.get(target)?.(Object.freeze({ ...event }));
  } catch {
    // The guard turns a throwing listener into an `error` event; nothing may break the call here.
  }
  if (printed.has(event.code)) return;
  printed.add(event.code);
  try {
    process.emitWarning(`toolgate: ${event.message}`, {
      type: 'ToolgateWarning',
      code: `TOOLGATE_${event.code}`,
    });
  } catch {
    // A process without emitWarning (an unusual runtime) still got the event.
  }
}
