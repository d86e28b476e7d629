import { parseDuration } from '../_internal/duration.ts';
import { callSafely } from '../_internal/fail-closed.ts';
import { ConfigurationError } from '../errors.ts';
import type { AuditEvent, AuditMode, AuditOption, AuditSink } from './types.ts';

/** Fans events out to the configured sinks, isolating each one. */
export interface AuditDispatcher {
  readonly mode: AuditMode;
  readonly sinks: readonly AuditSink[];
  /**
   * Best-effort write: `write()` is called on every sink now, its promise is not awaited, and
   * failures go to `onError`. Never throws.
   */
  record(event: AuditEvent): void;
  /**
   * Durable write for fail-closed mode: resolves `true` only when every sink acknowledged the
   * event within the audit timeout. Never throws.
   */
  recordDurable(event: AuditEvent): Promise<boolean>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

export function createAuditDispatcher(
  option: AuditOption | undefined,
  onError: (source: string, error: unknown, event?: AuditEvent) => void,
): AuditDispatcher {
  const { sinks, mode, timeoutMs } = normalizeAuditOption(option);
  const pending = new Set<Promise<unknown>>();

  const track = (sink: AuditSink, promise: PromiseLike<unknown>, event: AuditEvent) => {
    const tracked = Promise.resolve(promise).then(
      () => undefined,
      (error: unknown) => onError(`audit:${sink.name}`, error, event),
    );
    pending.add(tracked);
    void tracked.finally(() => pending.delete(tracked));
  };

  return {
    mode,
    sinks,
    record(event) {
      for (const sink of sinks) {
        try {
          const result = sink.write(event);
          if (result !== undefined && typeof (result as PromiseLike<void>).then === 'function') {
            track(sink, result as PromiseLike<void>, event);
          }
        } catch (error) {
          onError(`audit:${sink.name}`, error, event);
        }
      }
    },
    async recordDurable(event) {
      const outcomes = await Promise.all(
        sinks.map((sink) => callSafely(() => sink.write(event), { timeoutMs })),
      );
      let ok = true;
      outcomes.forEach((outcome, index) => {
        if (!outcome.ok) {
          ok = false;
          const sink = sinks[index]!;
          onError(
            `audit:${sink.name}`,
            outcome.reason === 'error' ? outcome.error : new Error(`audit sink ${outcome.reason}`),
            event,
          );
        }
      });
      return ok;
    },
    async flush() {
      await Promise.allSettled([...pending]);
      await Promise.all(
        sinks.map(async (sink) => {
          try {
            await sink.flush?.();
          } catch (error) {
            onError(`audit:${sink.name}`, error);
          }
        }),
      );
    },
    async close() {
      await Promise.allSettled([...pending]);
      await Promise.all(
        sinks.map(async (sink) => {
          try {
            if (sink.close) await sink.close();
            else await sink.flush?.();
          } catch (error) {
            onError(`audit:${sink.name}`, error);
          }
        }),
      );
    },
  };
}

function normalizeAuditOption(option: AuditOption | undefined): {
  sinks: readonly AuditSink[];
  mode: AuditMode;
  timeoutMs: number;
} {
  let sinks: readonly AuditSink[];
  let mode: AuditMode = 'best-effort';
  let timeoutMs = 5_000;
  if (option === undefined) sinks = [];
  else if (Array.isArray(option)) sinks = option as readonly AuditSink[];
  else if (isSink(option)) sinks = [option];
  else {
    const config = option as Exclude<AuditOption, AuditSink | readonly AuditSink[]>;
    if (!Array.isArray(config.sinks))
      throw new ConfigurationError('audit.sinks must be an array of audit sinks');
    sinks = config.sinks;
    if (config.mode !== undefined) {
      if (config.mode !== 'best-effort' && config.mode !== 'fail-closed') {
        throw new ConfigurationError(`audit.mode must be 'best-effort' or 'fail-closed'`);
      }
      mode = config.mode;
    }
    if (config.timeout !== undefined) timeoutMs = parseDuration(config.timeout, 'audit.timeout');
  }
  sinks.forEach((sink, index) => {
    if (!isSink(sink))
      throw new ConfigurationError(`audit sink #${index} must have a name and a write() method`);
  });
  if (mode === 'fail-closed' && sinks.length === 0) {
    throw new ConfigurationError('audit mode fail-closed needs at least one sink');
  }
  return { sinks: Object.freeze([...sinks]), mode, timeoutMs };
}

function isSink(value: unknown): value is AuditSink {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AuditSink).name === 'string' &&
    typeof (value as AuditSink).write === 'function'
  );
}
