import type { AuditCheckpoint } from './chain.ts';
import { COMPLETES_EVENTS } from './event-fields.ts';
import { flushOnExit } from './exit.ts';
import { JsonlChain } from './jsonl-chain.ts';
import {
  type CheckpointAnchor,
  type JsonlAuditOptions,
  type JsonlAuditSink,
  type JsonlAuditStats,
  jsonlSettings,
} from './jsonl-options.ts';
import { JsonlWriter } from './jsonl-writer.ts';
import { lockLog } from './log-lock.ts';
import { openChain } from './resume.ts';
import type { AuditEvent } from './types.ts';

const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 5_000;

/**
 * An append-only, hash-chained JSON-lines audit log with batched writes, group-commit `fdatasync`,
 * size rotation and optional Ed25519-signed checkpoints. It resumes an existing chain on open
 * (repairing a torn last line with a `gap` record) and throws a ConfigurationError when the file
 * cannot be opened or ends in a record whose hash does not verify.
 *
 * @example
 * const sink = jsonlAudit({ path: '/var/log/toolgate/audit.jsonl', rotate: { maxBytes: 64 << 20 } });
 * const tg = createGuard({ policy, audit: { sinks: [sink], mode: 'fail-closed' } });
 */
export function jsonlAudit(options: JsonlAuditOptions): JsonlAuditSink {
  const {
    path,
    name,
    fsyncMode,
    batchBytes,
    flushInterval,
    maxQueue,
    rotateBytes,
    signing,
    flushOnExit: flushAtExit,
  } = jsonlSettings(options);

  // One writer per file (log-lock.ts): a second one would break the chain. The chain is resumed
  // (a torn last line repaired) or new (resume.ts); its first record, if any, is appended below.
  const unlock = lockLog(path);
  let opened: ReturnType<typeof openChain>;
  try {
    opened = openChain(path);
  } catch (error) {
    unlock();
    throw error;
  }
  // Records are encoded straight into the batch being filled (jsonl-chain.ts); sealed batches go
  // to the file in order (jsonl-writer.ts: large ones on the write thread, while the next one
  // fills; the exit handler, rotation and backpressure write synchronously instead), and what is
  // written is synced by group commit (jsonl-sync.ts).
  // A captured event that cannot be serialized after all (it cannot happen) leaves a gap record.
  const chain = new JsonlChain(opened.chain, opened, batchBytes, (error) => {
    dropped += 1;
    report(error);
  });
  const file = new JsonlWriter(path, name, fsyncMode, opened, {
    written(batch) {
      chain.recycle(batch);
      retryDelay = RETRY_FIRST_MS;
    },
    failed: () => scheduleRetry(),
    drained: () => afterWrite(),
    synced: () => maybeRotate(),
    report: (error) => report(error),
  });
  const sync = file.sync;
  const waiters = sync.waiters;
  let dropped = 0;
  let droppedStreak = 0;
  let lastCheckpoint: AuditCheckpoint | undefined;
  let flushScheduled = false;
  let delayTimer: ReturnType<typeof setTimeout> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryDelay = RETRY_FIRST_MS;
  let checkpointTimer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  const handlers: ((error: unknown) => void)[] = [];
  const anchorWrites = new Set<Promise<void>>();

  const report = (error: unknown) => {
    for (const handler of handlers) {
      try {
        handler(error);
      } catch {
        // A throwing handler must not break the sink.
      }
    }
  };

  if (opened.first !== undefined) chain.record(opened.first.kind, opened.first.payload);
  chain.sinceCheckpoint = 0;

  /** Seals the queued records into a batch on its way to the file, after the ones already on their way. */
  const sealQueue = () => {
    const sealed = chain.take();
    if (sealed !== undefined) file.add(sealed);
  };

  /**
   * After a batch: checkpoint and rotation when due, then the next sealed batch, unless a write is
   * in flight (large ones to the write thread, small ones here).
   */
  const afterWrite = () => {
    for (;;) {
      if (signing !== undefined && chain.sinceCheckpoint >= signing.every && !closed) writeCheckpoint();
      maybeRotate();
      const step = file.writeNext();
      if (step === 'started' || step === 'failed') return;
      if (step === 'idle') break;
    }
    if (!file.busy && chain.records > 0) scheduleFlush(waiters.size > 0);
  };

  // Seals the queued records into a batch and hands it to the write thread. Double buffering: one
  // batch is written while the next fills; when that one is full too, the caller waits for the
  // disk (the write in flight) before it goes on.
  const flushNow = (): boolean => {
    flushScheduled = false;
    cancelDelay();
    sealQueue();
    // Done already (its answer not read yet), or waited for when another batch is waiting.
    const flight = file.collect();
    if (flight === 'pending') return true;
    if (flight === 'failed') return false;
    afterWrite();
    return true;
  };

  /** Writes every sealed batch and the queue with blocking writes, in order (see `JsonlWriter.writeAllSync`). */
  const writeAllSync = (): boolean => {
    sealQueue();
    return file.writeAllSync();
  };

  // Durable writes are flushed at the end of the tick (group commit); best-effort records wait up
  // to `flushInterval` so a steady trickle of calls still gets batched.
  const scheduleFlush = (urgent = false) => {
    if (retryTimer !== undefined) return;
    if (urgent) {
      if (flushScheduled) return;
      flushScheduled = true;
      setImmediate(flushNow);
    } else if (!flushScheduled && delayTimer === undefined) {
      delayTimer = setTimeout(flushNow, flushInterval);
      if (flushAtExit) delayTimer.unref?.();
    }
  };

  const cancelDelay = () => {
    if (delayTimer !== undefined) clearTimeout(delayTimer);
    delayTimer = undefined;
  };

  const scheduleRetry = () => {
    if (retryTimer !== undefined || closed) return;
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      flushNow();
    }, retryDelay);
    retryTimer.unref?.();
    retryDelay = Math.min(retryDelay * 2, RETRY_MAX_MS);
  };

  const maybeRotate = () => {
    if (file.fileBytes < rotateBytes || closed) return;
    // Records still queued belong before the new file's first record: they are written first.
    if ((file.pending > 0 || chain.records > 0) && !writeAllSync()) return;
    try {
      file.rotate();
      chain.record('file', { chain: chain.id, index: file.fileIndex, ts: Date.now() });
      scheduleFlush();
    } catch (error) {
      report(error);
    }
  };

  const writeCheckpoint = (): AuditCheckpoint | undefined => {
    if (signing === undefined) return undefined;
    const checkpoint = chain.checkpoint(signing.key, signing.keyId);
    lastCheckpoint = checkpoint;
    scheduleFlush();
    const anchor = signing.anchor;
    if (anchor !== undefined) {
      const sent = (async () => {
        try {
          // A sink used as anchor receives the checkpoint as its event.
          await (anchor as CheckpointAnchor).write(checkpoint);
        } catch (error) {
          report(error);
        }
      })();
      anchorWrites.add(sent);
      void sent.finally(() => anchorWrites.delete(sent));
    }
    return checkpoint;
  };

  if (signing !== undefined && signing.intervalMs > 0) {
    checkpointTimer = setInterval(() => {
      if (chain.sinceCheckpoint > 0 && !closed) writeCheckpoint();
    }, signing.intervalMs);
    checkpointTimer.unref?.();
  }

  const flushSync = () => {
    if (closed && file.pending === 0 && chain.records === 0) return;
    cancelDelay();
    writeAllSync();
    sync.now();
  };
  const unregister = flushAtExit ? flushOnExit({ flushSync }) : () => {};

  const enqueue = (event: AuditEvent): number => {
    if (closed) throw new Error(`audit sink ${name} is closed`);
    if (chain.records + file.backlogRecords >= maxQueue) {
      dropped += 1;
      droppedStreak += 1;
      if (droppedStreak === 1) report(new Error(`audit sink ${name}: queue full, dropping events`));
      return -1;
    }
    if (droppedStreak > 0) {
      chain.record('gap', { reason: 'dropped', count: droppedStreak, ts: Date.now() });
      droppedStreak = 0;
    }
    try {
      const at = chain.event(event as unknown as Record<string, unknown>);
      if (signing !== undefined && chain.sinceCheckpoint >= signing.every) writeCheckpoint();
      if (chain.size >= batchBytes || file.fileBytes + file.backlog + chain.size >= rotateBytes) flushNow();
      else scheduleFlush();
      return at;
    } catch (error) {
      dropped += 1;
      droppedStreak += 1;
      report(error);
      throw error;
    }
  };

  /** Writes everything queued now (off the main thread); false when a write failed. */
  const writeQueued = async (): Promise<boolean> => {
    if (!flushNow()) return false;
    const target = chain.seq;
    while (sync.writtenSeq < target) {
      let pending = file.writing;
      if (pending === undefined) {
        sealQueue();
        afterWrite();
        if (sync.writtenSeq >= target) return true;
        pending = file.writing;
        // Nothing in flight and not all written: a write failed (kept for its retry).
        if (pending === undefined) return false;
      }
      if (!(await pending)) return false;
    }
    return true;
  };

  const sink: JsonlAuditSink = {
    name,
    path,
    write(event) {
      try {
        enqueue(event);
      } catch (error) {
        if (closed) throw error;
        // Already reported and recorded as a gap; best-effort writes never throw for bad events.
      }
    },
    writeDurable(event) {
      if (sync.broken !== undefined) return Promise.reject(sync.broken);
      let at: number;
      try {
        at = enqueue(event);
      } catch (error) {
        return Promise.reject(error);
      }
      if (at < 0) return Promise.reject(new Error(`audit sink ${name}: queue full`));
      scheduleFlush(true);
      return new Promise<void>((resolve, reject) => {
        waiters.add(at, resolve, reject);
      });
    },
    onError(handler) {
      handlers.push(handler);
    },
    async flush() {
      if (!(await writeQueued())) throw new Error(`audit sink ${name}: write failed; records kept for retry`);
      await sync.all();
      await Promise.allSettled([...anchorWrites]);
    },
    async checkpoint() {
      if (closed) throw new Error(`audit sink ${name} is closed`);
      const checkpoint = writeCheckpoint();
      await this.flush();
      return checkpoint;
    },
    async close() {
      if (closed) return;
      if (signing !== undefined && chain.sinceCheckpoint > 0) writeCheckpoint();
      closed = true;
      let failure: unknown;
      let lost = 0;
      try {
        if (checkpointTimer !== undefined) clearInterval(checkpointTimer);
        if (retryTimer !== undefined) clearTimeout(retryTimer);
        retryTimer = undefined;
        await writeQueued();
        failure = await file.finish();
        lost = chain.records + file.backlogRecords;
        waiters.fail(Infinity, new Error(`audit sink ${name} closed before the record was written`));
        file.close();
      } finally {
        // Whatever failed above, the sink is done with the log: a lock still held would refuse
        // every later sink on this path in this process.
        unlock();
        unregister();
      }
      await Promise.allSettled([...anchorWrites]);
      if (failure !== undefined) throw failure;
      if (lost > 0)
        throw new Error(`audit sink ${name}: ${lost} record(s) could not be written before close`);
    },
    stats() {
      chain.seal();
      const stats: JsonlAuditStats = {
        chain: chain.id,
        seq: chain.seq,
        head: chain.head,
        written: file.written,
        synced: fsyncMode === 'never' ? sync.writtenSeq : sync.syncedSeq,
        syncs: sync.syncs,
        dropped,
        queued: chain.records + file.backlogRecords,
      };
      return lastCheckpoint === undefined ? stats : { ...stats, lastCheckpoint };
    },
  };
  // Events are serialized here and never handed out: their computed fields are read through their
  // class, so the guard need not make them own properties first (src/audit/event-fields.ts).
  Object.defineProperty(sink, COMPLETES_EVENTS, { value: true });
  return sink;
}

export type { AuditCheckpoint } from './chain.ts';
export type {
  CheckpointAnchor,
  CheckpointOptions,
  JsonlAuditOptions,
  JsonlAuditSink,
  JsonlAuditStats,
} from './jsonl-options.ts';
