import { isThenable } from './fail-closed.ts';

type Listener = (...args: never[]) => unknown;

/**
 * The host's event listeners (`tg.on`, `tg.once`) as the guard calls them. A listener that throws
 * or whose promise rejects is reported (`report`) and never stops the listeners after it (an
 * emitter stops at the first throw) nor reaches the process as an unhandled rejection. One
 * wrapper per listener and event, so `tg.off` finds what `tg.on` added.
 */
export class GuardListeners {
  private readonly byEvent = new Map<string, WeakMap<Listener, Listener>>();

  constructor(private readonly report: (event: string, error: unknown, payload: unknown) => void) {}

  /** The wrapper to register for `listener` on `event` (the same one each time). */
  wrap(event: string, listener: Listener): Listener {
    let wrappers = this.byEvent.get(event);
    if (wrappers === undefined) {
      wrappers = new WeakMap();
      this.byEvent.set(event, wrappers);
    }
    const known = wrappers.get(listener);
    if (known !== undefined) return known;
    const report = this.report;
    const wrapper = function (this: unknown, ...args: never[]): void {
      try {
        const result = listener.apply(this, args);
        if (isThenable(result))
          Promise.resolve(result).catch((error: unknown) => report(event, error, args[0]));
      } catch (error) {
        report(event, error, args[0]);
      }
    };
    wrappers.set(listener, wrapper);
    return wrapper;
  }

  /** The wrapper registered for `listener` on `event`, or `listener` itself when there is none. */
  unwrap(event: string, listener: Listener): Listener {
    return this.byEvent.get(event)?.get(listener) ?? listener;
  }
}
