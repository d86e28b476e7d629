import { parseDuration } from '../_internal/duration.ts';
import { callSafely } from '../_internal/fail-closed.ts';
import type { ApproverView } from '../approval/approver-view.ts';
import { ConfigurationError } from '../errors.ts';
import type { DeepReadonly, JsonObject } from '../types.ts';
import { completeEvent, completesEvents } from './event-fields.ts';
import { describeOutput, normalizeCapture, type OutputCapture, type ResultOutputFields } from './output.ts';
import { createRedactor, type Redactor } from './redact.ts';
import { REDACTION_FAILED } from './shown.ts';
import type { AuditEvent, AuditMode, AuditOption, AuditSink } from './types.ts';

/** Fans events out to the configured sinks, isolating each one. */
export interface AuditDispatcher {
  readonly mode: AuditMode;
  readonly sinks: readonly AuditSink[];
  /** The redactor applied to every record and approval prompt. */
  readonly redactor: Redactor;
  /**
   * Best-effort write: `write()` is called on every sink now, its promise is not awaited, and
   * failures go to `onError` (and to a bounded retry buffer per sink). Never throws.
   */
  record(event: AuditEvent): void;
  /**
   * Durable write for fail-closed mode: resolves `true` only when every sink acknowledged the
   * event (through `writeDurable` when the sink has it) within the audit timeout. Never throws.
   */
  recordDurable(event: AuditEvent): Promise<boolean>;
  /**
   * The arguments as records and approval prompts show them: redacted
   * (the same object when nothing matched). `undefined` when redaction failed: the caller denies.
   */
  recordedArgs(args: DeepReadonly<JsonObject>): DeepReadonly<JsonObject> | undefined;
  /** Context attributes as recorded; `undefined` when redaction failed (the record omits them). */
  recordedAttributes(attributes: DeepReadonly<JsonObject>): DeepReadonly<JsonObject> | undefined;
  /** Free text (error messages, reasons) as recorded. */
  recordedText(text: string): string;
  /** Adds the output's size and shape (and, when capture is on, its redacted content) to a result event. */
  describeResult(event: ResultOutputFields, output: unknown, redactPaths?: readonly string[]): void;
  /** Events dropped per sink after its retry buffer filled up. */
  dropped(): Readonly<Record<string, number>>;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Retry settings of best-effort mode. */
const RETRY_BUFFER = 1_000;
const RETRY_FIRST_MS = 100;
const RETRY_MAX_MS = 5_000;

/** Builds the dispatcher from the guard's `audit` option. Invalid options throw here. */
export function createAuditDispatcher(
  option: AuditOption | undefined,
  onError: (source: string, error: unknown, event?: AuditEvent) => void,
): AuditDispatcher {
  const { sinks, mode, timeoutMs, redactor, capture, retryBuffer } = normalizeAuditOption(option);
  // Events get their computed fields as own properties before a sink sees them, unless every
  // sink completes them itself when it hands them out (src/audit/event-fields.ts).
  const complete = sinks.some((sink) => !completesEvents(sink));
  const pending = new Set<Promise<unknown>>();
  const retries = new Map<AuditSink, Retry>();
  const droppedBySink: Record<string, number> = {};
  let closed = false;

  for (const sink of sinks) {
    try {
      sink.onError?.((error) => onError(`audit:${sink.name}`, error));
    } catch (error) {
      onError(`audit:${sink.name}`, error);
    }
  }

  const fail = (sink: AuditSink, error: unknown, event: AuditEvent) => {
    onError(`audit:${sink.name}`, error, event);
    if (mode === 'best-effort' && !closed) retryLater(sink, event);
  };

  const track = (sink: AuditSink, promise: PromiseLike<unknown>, event: AuditEvent) => {
    const tracked = Promise.resolve(promise).then(
      () => undefined,
      (error: unknown) => fail(sink, error, event),
    );
    pending.add(tracked);
    void tracked.finally(() => pending.delete(tracked));
  };

  const writeOne = (sink: AuditSink, event: AuditEvent): void => {
    try {
      const result = sink.write(event);
      if (result !== undefined && typeof (result as PromiseLike<void>).then === 'function') {
        track(sink, result as PromiseLike<void>, event);
      }
    } catch (error) {
      fail(sink, error, event);
    }
  };

  // A failing sink keeps its events in a bounded buffer and retries them with backoff; what does not
  // fit is counted, reported, and never silently lost.
  const retryLater = (sink: AuditSink, event: AuditEvent) => {
    let retry = retries.get(sink);
    if (retry === undefined) {
      retry = { queue: [], delay: RETRY_FIRST_MS, timer: undefined };
      retries.set(sink, retry);
    }
    if (retry.queue.length >= retryBuffer) {
      retry.queue.shift();
      droppedBySink[sink.name] = (droppedBySink[sink.name] ?? 0) + 1;
      onError(
        `audit:${sink.name}`,
        new Error(
          `audit sink ${sink.name} is failing: dropped ${droppedBySink[sink.name]} event(s) in total`,
        ),
      );
    }
    retry.queue.push(event);
    if (retry.timer === undefined) schedule(sink, retry);
  };
  const schedule = (sink: AuditSink, retry: Retry) => {
    retry.timer = setTimeout(() => {
      retry.timer = undefined;
      void drain(sink, retry);
    }, retry.delay);
    retry.timer.unref?.();
  };
  const drain = async (sink: AuditSink, retry: Retry): Promise<void> => {
    while (retry.queue.length > 0) {
      const event = retry.queue[0]!;
      const outcome = await callSafely(() => sink.write(event), { timeoutMs });
      if (!outcome.ok) {
        retry.delay = Math.min(retry.delay * 2, RETRY_MAX_MS);
        if (!closed) schedule(sink, retry);
        return;
      }
      retry.queue.shift();
      retry.delay = RETRY_FIRST_MS;
    }
  };

  // No memo here: the pipeline caches per call. A WeakMap keyed by every call's args measurably
  // slowed every call (ephemeron bookkeeping in the garbage collector).
  const memo = (value: DeepReadonly<JsonObject>, root: 'args' | 'attributes') => {
    if (!redactor.active) return value;
    return redactor.redact(value, root) as DeepReadonly<JsonObject> | undefined;
  };

  return {
    mode,
    sinks,
    redactor,
    record(event) {
      if (complete) completeEvent(event);
      // Indexed: a for-of here allocated an iterator result per sink on every event.
      for (let i = 0; i < sinks.length; i++) writeOne(sinks[i]!, event);
    },
    async recordDurable(event) {
      if (complete) completeEvent(event);
      if (closed) {
        onError('audit', new Error('the audit trail is closed'), event);
        return false;
      }
      const outcomes = await Promise.all(
        sinks.map((sink) =>
          callSafely(
            () => (typeof sink.writeDurable === 'function' ? sink.writeDurable(event) : sink.write(event)),
            { timeoutMs },
          ),
        ),
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
    recordedArgs(args) {
      return memo(args, 'args');
    },
    recordedAttributes(attributes) {
      return memo(attributes, 'attributes');
    },
    recordedText(text) {
      return redactor.redactText(text) ?? REDACTION_FAILED;
    },
    describeResult(event, output, redactPaths) {
      describeOutput(event, output, redactor, capture, redactPaths);
    },
    dropped() {
      return { ...droppedBySink };
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
      // One last try for events still waiting to be retried; what fails now is reported as dropped.
      for (const [sink, retry] of retries) {
        if (retry.timer !== undefined) clearTimeout(retry.timer);
        retry.timer = undefined;
        await drain(sink, retry);
        if (retry.queue.length > 0) {
          droppedBySink[sink.name] = (droppedBySink[sink.name] ?? 0) + retry.queue.length;
          onError(
            `audit:${sink.name}`,
            new Error(`audit sink ${sink.name}: ${retry.queue.length} event(s) dropped at close`),
          );
          retry.queue.length = 0;
        }
      }
      closed = true;
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

interface Retry {
  queue: AuditEvent[];
  delay: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

function normalizeAuditOption(option: AuditOption | undefined): {
  sinks: readonly AuditSink[];
  mode: AuditMode;
  timeoutMs: number;
  redactor: Redactor;
  capture: OutputCapture;
  retryBuffer: number;
} {
  let sinks: readonly AuditSink[];
  let mode: AuditMode = 'best-effort';
  let timeoutMs = 5_000;
  let redactor = createRedactor(undefined);
  let capture = normalizeCapture(undefined);
  let retryBuffer = RETRY_BUFFER;
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
    if (config.redact !== undefined) redactor = createRedactor(config.redact);
    if (config.output !== undefined) capture = normalizeCapture(config.output);
    if (config.retryBuffer !== undefined) {
      if (!Number.isSafeInteger(config.retryBuffer) || config.retryBuffer < 0)
        throw new ConfigurationError('audit.retryBuffer must be a non-negative integer');
      retryBuffer = config.retryBuffer;
    }
  }
  sinks.forEach((sink, index) => {
    if (!isSink(sink))
      throw new ConfigurationError(`audit sink #${index} must have a name and a write() method`);
  });
  if (mode === 'fail-closed' && sinks.length === 0) {
    throw new ConfigurationError('audit mode fail-closed needs at least one sink');
  }
  return { sinks: Object.freeze([...sinks]), mode, timeoutMs, redactor, capture, retryBuffer };
}

function isSink(value: unknown): value is AuditSink {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AuditSink).name === 'string' &&
    typeof (value as AuditSink).write === 'function'
  );
}

/**
 * What an approver is shown: the arguments and attributes redacted exactly as the audit trail
 * records them, and free text (reasons) through the same detectors. Throws when redaction failed,
 * which the approval step turns into a deny.
 */
export function approverView(audit: AuditDispatcher): ApproverView {
  return {
    args(args) {
      const shown = audit.recordedArgs(args);
      if (shown === undefined) throw new Error('the arguments could not be redacted');
      return shown;
    },
    attributes(attributes) {
      const shown = audit.recordedAttributes(attributes);
      if (shown === undefined) throw new Error('the context attributes could not be redacted');
      return shown;
    },
    text(text) {
      const shown = audit.redactor.redactText(text);
      if (shown === undefined) throw new Error('the reason could not be redacted');
      return shown;
    },
  };
}
