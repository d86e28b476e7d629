import { describeError } from '../_internal/describe-error.ts';
import { callSafely } from '../_internal/fail-closed.ts';
import type { ApproverView } from '../approval/approver-view.ts';
import type { DeepReadonly, JsonObject } from '../types.ts';
import { normalizeAuditOption } from './audit-options.ts';
import { completeEvent, completesEvents } from './event-fields.ts';
import { describeOutput, type ResultOutputFields } from './output.ts';
import type { Redactor } from './redact.ts';
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
  /**
   * Waits for every sink's writes, retries what it holds for retry, and flushes it, each sink
   * within `timeoutMs`; never throws. What could not be done, by sink, comes back (and is raised
   * as an `error` event): the guard rejects its `flush()` with it.
   */
  flush(timeoutMs: number): Promise<AuditShortfall[]>;
  /** `flush`, and then the sinks are closed: what still waits for a retry is dropped and reported. */
  close(timeoutMs: number): Promise<AuditShortfall[]>;
}

/** What `flush` or `close` could not do for one sink. */
export interface AuditShortfall {
  readonly sink: string;
  readonly error: Error;
}

/** Retry settings of best-effort mode. */
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
  /** Each sink's writes not settled yet (only sinks whose `write` returns a promise have any). */
  const pending = new Map<AuditSink, Set<Promise<unknown>>>();
  const retries = new Map<AuditSink, Retry>();
  const droppedBySink: Record<string, number> = {};
  /** Of `droppedBySink`, what a `flush` or `close` has already reported. */
  const droppedReported: Record<string, number> = {};
  let closed = false;
  /** Set when `close` starts: no retry is scheduled from then on (close retries once itself). */
  let closing = false;

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
    let writes = pending.get(sink);
    if (writes === undefined) {
      writes = new Set();
      pending.set(sink, writes);
    }
    writes.add(tracked);
    void tracked.finally(() => writes.delete(tracked));
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
      retry = { queue: [], delay: RETRY_FIRST_MS, timer: undefined, draining: undefined };
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
    if (retry.timer === undefined && !closing) schedule(sink, retry);
  };
  const schedule = (sink: AuditSink, retry: Retry) => {
    retry.timer = setTimeout(() => {
      retry.timer = undefined;
      void drain(sink, retry);
    }, retry.delay);
    retry.timer.unref?.();
  };
  // One drain at a time per sink: two would write the head of the queue twice.
  const drain = (sink: AuditSink, retry: Retry): Promise<void> => {
    if (retry.draining === undefined) {
      retry.draining = drainNow(sink, retry).finally(() => {
        retry.draining = undefined;
      });
    }
    return retry.draining;
  };
  const drainNow = async (sink: AuditSink, retry: Retry): Promise<void> => {
    while (retry.queue.length > 0) {
      const event = retry.queue[0]!;
      // No timeout here, off every call's path: a slow write that still lands must not be written
      // again (G11: one decision record). A write that never settles stalls the retries of this
      // sink, and `flush`/`close` say so once their own timeout passes.
      let written: boolean;
      try {
        await sink.write(event);
        written = true;
      } catch {
        written = false;
      }
      if (!written) {
        retry.delay = Math.min(retry.delay * 2, RETRY_MAX_MS);
        if (!closing && retry.timer === undefined) schedule(sink, retry);
        return;
      }
      retry.queue.shift();
      retry.delay = RETRY_FIRST_MS;
    }
  };
  /** Retries what `sink` holds for retry now, after a drain already under way; returns what is left. */
  const retryNow = async (sink: AuditSink): Promise<number> => {
    const retry = retries.get(sink);
    if (retry === undefined) return 0;
    if (retry.draining !== undefined) await retry.draining;
    if (retry.queue.length === 0) return 0;
    if (retry.timer !== undefined) clearTimeout(retry.timer);
    retry.timer = undefined;
    await drain(sink, retry);
    return retry.queue.length;
  };

  /**
   * The part of `flush` and `close` for one sink, within `timeoutMs`: its writes settle, what it
   * holds for retry is retried, then `finish` (its flush or close) runs. Returns what fell short.
   */
  const settle = async (
    sink: AuditSink,
    timeoutMs: number,
    closes: boolean,
    finish: () => unknown,
  ): Promise<AuditShortfall[]> => {
    const shortfalls: AuditShortfall[] = [];
    const short = (error: unknown) => {
      const reported = error instanceof Error ? error : new Error(describeError(error));
      onError(`audit:${sink.name}`, reported);
      shortfalls.push({ sink: sink.name, error: reported });
    };
    const deadline = Date.now() + timeoutMs;
    const left = () => Math.max(0, deadline - Date.now());
    const writes = [...(pending.get(sink) ?? [])];
    if (writes.length > 0) {
      const outcome = await callSafely(() => Promise.allSettled(writes), { timeoutMs: left() });
      if (!outcome.ok) {
        const still = [...(pending.get(sink) ?? [])].filter((write) => writes.includes(write)).length;
        short(new Error(`audit sink ${sink.name}: ${still} write(s) not settled within ${timeoutMs} ms`));
      }
    }
    const retrying = await callSafely(() => retryNow(sink), { timeoutMs: left() });
    const waiting = retrying.ok ? retrying.value : (retries.get(sink)?.queue.length ?? 0);
    const dropped = (droppedBySink[sink.name] ?? 0) - (droppedReported[sink.name] ?? 0);
    if (dropped > 0)
      short(
        new Error(
          `audit sink ${sink.name}: ${dropped} event(s) dropped since the last flush (its retry buffer was full)`,
        ),
      );
    if (waiting > 0 && closes) {
      retries.get(sink)!.queue.length = 0;
      droppedBySink[sink.name] = (droppedBySink[sink.name] ?? 0) + waiting;
      short(
        new Error(
          `audit sink ${sink.name}: ${waiting} event(s) dropped at close (writing them kept failing)`,
        ),
      );
    } else if (waiting > 0)
      short(new Error(`audit sink ${sink.name}: ${waiting} event(s) not written yet (kept for retry)`));
    droppedReported[sink.name] = droppedBySink[sink.name] ?? 0;
    const finished = await callSafely(() => finish(), { timeoutMs: left() });
    if (!finished.ok) {
      short(
        finished.reason === 'error'
          ? finished.error
          : new Error(
              `audit sink ${sink.name} did not finish ${closes ? 'closing' : 'flushing'} within ${timeoutMs} ms`,
            ),
      );
    }
    return shortfalls;
  };
  const settleAll = async (timeoutMs: number, closes: boolean): Promise<AuditShortfall[]> => {
    if (closes) closing = true;
    const each = await Promise.all(
      sinks.map((sink) =>
        settle(sink, timeoutMs, closes, () => {
          if (!closes) return sink.flush?.();
          // From the first sink closing on, a durable write is refused and a failed one not kept.
          closed = true;
          return sink.close ? sink.close() : sink.flush?.();
        }),
      ),
    );
    if (closes) closed = true;
    return each.flat();
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
    flush(timeoutMs) {
      return settleAll(timeoutMs, false);
    },
    close(timeoutMs) {
      return settleAll(timeoutMs, true);
    },
  };
}

interface Retry {
  queue: AuditEvent[];
  delay: number;
  timer: ReturnType<typeof setTimeout> | undefined;
  /** The drain under way, if any. */
  draining: Promise<void> | undefined;
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
