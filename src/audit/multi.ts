import { callSafely } from '../_internal/fail-closed.ts';
import { ConfigurationError } from '../errors.ts';
import type { AuditEvent, AuditSink } from './types.ts';

/** Options of `multiSink`. */
export interface MultiSinkOptions {
  /** Sink name in `error` events. @default 'multi' */
  readonly name?: string;
  /** How long each sink may take for one write before it counts as failed. @default 5000 */
  readonly timeoutMs?: number;
}

/**
 * Fans every event out to several sinks, each isolated: one that throws, rejects or hangs never
 * stops the others. A write resolves when every sink has settled and rejects (with an
 * AggregateError naming the failed sinks) if any failed, so fail-closed mode stays fail-closed.
 *
 * @example
 * const audit = multiSink([jsonlAudit({ path }), otelAudit()]);
 */
export function multiSink(sinks: readonly AuditSink[], options: MultiSinkOptions = {}): AuditSink {
  if (!Array.isArray(sinks) || sinks.length === 0)
    throw new ConfigurationError('multiSink() needs a list of sinks');
  for (const [index, sink] of sinks.entries()) {
    if (
      typeof sink !== 'object' ||
      sink === null ||
      typeof sink.write !== 'function' ||
      typeof sink.name !== 'string'
    )
      throw new ConfigurationError(`multiSink sink #${index} must have a name and a write() method`);
  }
  const timeoutMs = options.timeoutMs ?? 5_000;
  const all = Object.freeze([...sinks]);
  const run = async (label: string, fn: (sink: AuditSink) => unknown): Promise<void> => {
    const outcomes = await Promise.all(all.map((sink) => callSafely(() => fn(sink), { timeoutMs })));
    const errors: unknown[] = [];
    outcomes.forEach((outcome, index) => {
      if (!outcome.ok) {
        const sink = all[index]!;
        errors.push(
          outcome.reason === 'error'
            ? new Error(`audit sink ${sink.name} failed to ${label}`, { cause: outcome.error })
            : new Error(`audit sink ${sink.name}: ${label} ${outcome.reason}`),
        );
      }
    });
    if (errors.length > 0)
      throw new AggregateError(errors, `${errors.length} of ${all.length} audit sinks failed`);
  };
  return {
    name: options.name ?? 'multi',
    write: (event: AuditEvent) => run('write', (sink) => sink.write(event)),
    writeDurable: (event: AuditEvent) =>
      run('write', (sink) =>
        typeof sink.writeDurable === 'function' ? sink.writeDurable(event) : sink.write(event),
      ),
    onError(handler) {
      for (const sink of all) sink.onError?.(handler);
    },
    flush: () => run('flush', (sink) => sink.flush?.()),
    close: () => run('close', (sink) => (sink.close ? sink.close() : sink.flush?.())),
  };
}
