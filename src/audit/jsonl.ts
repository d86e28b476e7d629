import { closeSync, fdatasync, fdatasyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { type AuditCheckpoint, signCheckpoint } from './chain.ts';
import { DurableWaiters } from './durable-waiters.ts';
import { COMPLETES_EVENTS } from './event-fields.ts';
import { flushOnExit } from './exit.ts';
import {
  type CheckpointAnchor,
  type JsonlAuditOptions,
  type JsonlAuditSink,
  type JsonlAuditStats,
  jsonlSettings,
} from './jsonl-options.ts';
import { LineBatch, SERIALIZE_EVERY } from './line-batch.ts';
import { lockLog } from './log-lock.ts';
import { openChain } from './resume.ts';
import type { AuditEvent } from './types.ts';
import { type OffThreadWrite, sharedBytes, writeOffThread } from './write-thread.ts';

const RETRY_FIRST_MS = 50;
/** Initial buffer of a batch; it grows to hold a batch (`batchBytes` and the line crossing it). */
const INITIAL_BATCH = 64 * 1024;
const RETRY_MAX_MS = 5_000;
/**
 * Batches from this size on go to the write thread; smaller ones (a trickle of calls, a group
 * commit of a few durable records) are written on the calling thread, where they cost less than
 * waking the thread, and a process that writes only a few records never starts it.
 */
const OFF_THREAD_BYTES = 64 * 1024;
/** How long the exit handler (or rotation) waits for a write in flight on the write thread. */
const WAIT_IN_FLIGHT_MS = 10_000;

/** A sealed batch on its way to the file; `offset` of its bytes are written. */
interface Out {
  readonly batch: LineBatch;
  readonly buffer: Buffer;
  offset: number;
  readonly seq: number;
  readonly records: number;
}

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

  // State of the chain and the file: an existing chain resumed (a torn last line repaired) or a
  // new one (src/audit/resume.ts); its first record, if any, is appended below.
  // One writer per file (log-lock.ts): a second one would break the chain.
  const unlock = lockLog(path);
  let opened: ReturnType<typeof openChain>;
  try {
    opened = openChain(path);
  } catch (error) {
    unlock();
    throw error;
  }
  const chain = opened.chain;
  let { fd, fileIndex, fileBytes, seq, head } = opened;
  // Batches are written (appended) off the main thread, one at a time, in order, by the write
  // thread (src/audit/write-thread.ts). The exit handler, rotation and backpressure write
  // synchronously instead: they first wait for the write in flight, then write the rest.
  // Records are encoded straight into the pending batch; `outs` are the sealed batches on their
  // way to the file, in order (the first one kept with its offset when a write fails), while
  // new records go to a fresh batch.
  // A captured event that cannot be serialized after all (it cannot happen) leaves a gap record.
  const unserializable = (error: unknown) => {
    dropped += 1;
    report(error);
  };
  const newBatch = () => new LineBatch(INITIAL_BATCH, unserializable, sharedBytes);
  let queue = newBatch();
  let spare: LineBatch | undefined;
  let queuedSeq = seq;
  const outs: Out[] = [];
  /** Bytes and records of the sealed batches not yet written. */
  let backlog = 0;
  let backlogRecords = 0;
  /** The write in flight on the write thread, until its result is taken (here or synchronously). */
  let inFlight: { readonly job: Out; readonly write: OffThreadWrite } | undefined;
  /** Settles when the write in flight has answered (true when it wrote its batch). */
  let writing: Promise<boolean> | undefined;
  let writtenSeq = seq;
  let syncedSeq = seq;
  let written = 0;
  let syncs = 0;
  let dropped = 0;
  let droppedStreak = 0;
  let sinceCheckpoint = 0;
  let lastCheckpoint: AuditCheckpoint | undefined;
  const waiters = new DurableWaiters();
  let flushScheduled = false;
  let delayTimer: ReturnType<typeof setTimeout> | undefined;
  let syncing: Promise<void> | undefined;
  let syncAgain = false;
  let broken: Error | undefined;
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

  // Records are serialized on the caller's path; the chain (`prev`, the hash, `head`) is filled in
  // by `seal` for the records serialized so far: as events are serialized (eight at a time), and
  // before a batch is written or its head is needed.
  const append = (kind: 'file' | 'event' | 'checkpoint' | 'gap', payload: unknown): number => {
    queue.record(kind, payload, seq + 1);
    return appended();
  };
  // An event goes in as it is: fields set to undefined are left out, as JSON leaves them out.
  const appendEvent = (event: AuditEvent): number => {
    queue.event(event as unknown as Record<string, unknown>, seq + 1);
    const at = appended();
    // The chain is filled in as the records are serialized, eight at a time: the call that fills
    // a batch then hands it on without first hashing all of it (a spike of ~0.5 ms for 256 KiB).
    if (queue.unsealed >= SERIALIZE_EVERY) seal();
    return at;
  };
  const appended = (): number => {
    seq += 1;
    queuedSeq = seq;
    sinceCheckpoint += 1;
    return seq;
  };
  /** Completes the chain of the records appended so far: `head` is then the last record's hash. */
  const seal = () => {
    head = queue.seal(head);
  };

  if (opened.first !== undefined) append(opened.first.kind, opened.first.payload);
  sinceCheckpoint = 0;

  const startSync = () => {
    if (fsyncMode === 'never' || broken !== undefined) return;
    if (syncing !== undefined) {
      syncAgain = true;
      return;
    }
    if (writtenSeq <= syncedSeq) return;
    const target = writtenSeq;
    const syncFd = fd;
    syncing = new Promise<void>((resolve) => {
      fdatasync(syncFd, (error) => {
        syncing = undefined;
        if (error) {
          // After a failed fsync the kernel may have dropped the pages: never claim durability again.
          broken = error;
          waiters.fail(Infinity, error);
          report(error);
        } else {
          syncs += 1;
          syncedSeq = Math.max(syncedSeq, target);
          waiters.settle(syncedSeq);
          if (syncAgain || writtenSeq > syncedSeq) {
            syncAgain = false;
            startSync();
          }
        }
        resolve();
        maybeRotate();
      });
    });
  };

  /** Seals the queue into a batch on its way to the file, after the ones already on their way. */
  const sealQueue = () => {
    if (queue.records === 0) return;
    seal();
    const buffer = queue.bytes();
    outs.push({ batch: queue, buffer, offset: 0, seq: queuedSeq, records: queue.records });
    backlog += buffer.length;
    backlogRecords += queue.records;
    queue = spare ?? newBatch();
    spare = undefined;
  };

  /** A batch is in the file (`fileBytes`, `written`), its waiters told or its sync started. */
  const completed = (job: Out) => {
    outs.shift();
    backlog -= job.buffer.length;
    backlogRecords -= job.records;
    fileBytes += job.buffer.length;
    written += job.records;
    writtenSeq = job.seq;
    // Written: its buffer serves the next batch, unless a huge record made it grow far past a batch.
    if (spare === undefined && job.batch.capacity <= Math.max(2 * batchBytes, INITIAL_BATCH)) {
      job.batch.clear();
      spare = job.batch;
    }
    retryDelay = RETRY_FIRST_MS;
    if (fsyncMode === 'never') waiters.settle(writtenSeq);
    else startSync();
  };

  const writeFailed = (job: Out, error: unknown) => {
    // Keep the rest of the batch (and its position) for a retry; calls waiting on it fail now.
    waiters.fail(job.seq, error);
    report(error);
    scheduleRetry();
  };

  /** Takes the result of the write in flight (once): false when it failed (kept for a retry). */
  const takeResult = (flight: { readonly job: Out }, offset: number, error: Error | undefined): boolean => {
    inFlight = undefined;
    writing = undefined;
    const job = flight.job;
    job.offset += offset;
    if (error !== undefined || job.offset < job.buffer.length) {
      writeFailed(job, error ?? new Error(`audit sink ${name}: short write`));
      return false;
    }
    completed(job);
    return true;
  };

  /** Hands a sealed batch (the first) to the write thread. */
  const startOffThread = (job: Out) => {
    const flight = { job, write: writeOffThread(fd, job.buffer.subarray(job.offset)) };
    inFlight = flight;
    writing = flight.write.done.then(({ offset, error }) => {
      // Taken already, from shared memory (`flushNow`, `writeAllSync`).
      if (inFlight !== flight) return true;
      const ok = takeResult(flight, offset, error);
      if (ok) afterWrite();
      return ok;
    });
  };

  /** Writes a sealed batch (the first) on this thread; false when the write failed. */
  const writeHere = (job: Out): boolean => {
    try {
      let at = job.offset;
      while (at < job.buffer.length) at += writeSync(fd, job.buffer, at, job.buffer.length - at);
      job.offset = at;
    } catch (error) {
      writeFailed(job, error);
      return false;
    }
    completed(job);
    return true;
  };

  /**
   * After a batch: checkpoint and rotation when due, then the next sealed batch, unless a write is
   * in flight (large ones to the write thread, small ones here).
   */
  const afterWrite = () => {
    for (;;) {
      if (signing !== undefined && sinceCheckpoint >= signing.every && !closed) writeCheckpoint();
      maybeRotate();
      const job = outs[0];
      if (inFlight !== undefined || job === undefined) break;
      if (job.buffer.length - job.offset >= OFF_THREAD_BYTES) return startOffThread(job);
      if (!writeHere(job)) return;
    }
    if (inFlight === undefined && queue.records > 0) scheduleFlush(waiters.size > 0);
  };

  // Seals the queued records into a batch and hands it to the write thread. Double buffering: one
  // batch is written while the next fills; when that one is full too, the caller waits for the
  // disk (the write in flight) before it goes on.
  const flushNow = (): boolean => {
    flushScheduled = false;
    if (delayTimer !== undefined) {
      clearTimeout(delayTimer);
      delayTimer = undefined;
    }
    sealQueue();
    const flight = inFlight;
    if (flight !== undefined) {
      // Done already (its answer not read yet), or waited for when another batch is waiting.
      const result = flight.write.waitSync(outs.length > 1 ? WAIT_IN_FLIGHT_MS : 0);
      if (result === undefined) {
        if (outs.length <= 1) return true;
        report(new Error(`audit sink ${name}: a write did not finish in ${WAIT_IN_FLIGHT_MS} ms`));
        return false;
      }
      if (!takeResult(flight, result.offset, result.error)) return false;
    }
    afterWrite();
    return true;
  };

  /**
   * Writes every sealed batch and the queue with blocking writes, in order, after waiting for the
   * write in flight on the write thread (its result says how much of its batch is in the file).
   * For the exit handler, rotation and backpressure. False when a write failed (the batch is kept
   * for a retry) or the write in flight did not answer in time.
   */
  const writeAllSync = (): boolean => {
    sealQueue();
    if (inFlight !== undefined) {
      const result = inFlight.write.waitSync(WAIT_IN_FLIGHT_MS);
      if (result === undefined) {
        report(new Error(`audit sink ${name}: a write did not finish in ${WAIT_IN_FLIGHT_MS} ms`));
        return false;
      }
      // Its answer, when it comes, finds the batch taken over; what is missing is written below.
      inFlight.job.offset += result.offset;
      inFlight = undefined;
      writing = undefined;
    }
    while (outs.length > 0) if (!writeHere(outs[0]!)) return false;
    return true;
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
    if (fileBytes < rotateBytes || closed) return;
    // Records still queued belong before the new file's first record: they are written first.
    if ((outs.length > 0 || queue.records > 0) && !writeAllSync()) return;
    try {
      if (fsyncMode === 'batch' && broken === undefined) {
        fdatasyncSync(fd);
        syncs += 1;
        syncedSeq = writtenSeq;
        waiters.settle(syncedSeq);
      }
      // A sync still in flight holds the old descriptor: close it once that sync is done (the
      // write thread is done with it: `writeAllSync` waited).
      const oldFd = fd;
      if (syncing === undefined) closeSync(oldFd);
      else void syncing.then(() => closeSync(oldFd));
      renameSync(path, `${path}.${fileIndex}`);
      fileIndex += 1;
      fd = openSync(path, 'a');
      fileBytes = 0;
      append('file', { chain, index: fileIndex, ts: Date.now() });
      scheduleFlush();
    } catch (error) {
      report(error);
    }
  };

  const writeCheckpoint = (): AuditCheckpoint | undefined => {
    if (signing === undefined) return undefined;
    // The signature covers the head of the chain: complete it first.
    seal();
    const ts = Date.now();
    const next = seq + 1;
    const fields = { chain, keyId: signing.keyId, prev: head, seq: next, ts };
    const sig = signCheckpoint(fields, signing.key);
    const prev = head;
    append('checkpoint', { chain, keyId: signing.keyId, sig, ts });
    seal();
    sinceCheckpoint = 0;
    const checkpoint: AuditCheckpoint = Object.freeze({ ...fields, prev, hash: head, sig });
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
      if (sinceCheckpoint > 0 && !closed) writeCheckpoint();
    }, signing.intervalMs);
    checkpointTimer.unref?.();
  }

  const flushSync = () => {
    if (closed && outs.length === 0 && queue.records === 0) return;
    if (delayTimer !== undefined) {
      clearTimeout(delayTimer);
      delayTimer = undefined;
    }
    writeAllSync();
    if (fsyncMode === 'batch' && broken === undefined && writtenSeq > syncedSeq) {
      fdatasyncSync(fd);
      syncs += 1;
      syncedSeq = writtenSeq;
      waiters.settle(syncedSeq);
    }
  };
  const unregister = flushAtExit ? flushOnExit({ flushSync }) : () => {};

  const enqueue = (event: AuditEvent): number => {
    if (closed) throw new Error(`audit sink ${name} is closed`);
    if (queue.records + backlogRecords >= maxQueue) {
      dropped += 1;
      droppedStreak += 1;
      if (droppedStreak === 1) report(new Error(`audit sink ${name}: queue full, dropping events`));
      return -1;
    }
    if (droppedStreak > 0) {
      append('gap', { reason: 'dropped', count: droppedStreak, ts: Date.now() });
      droppedStreak = 0;
    }
    try {
      const at = appendEvent(event);
      if (signing !== undefined && sinceCheckpoint >= signing.every) writeCheckpoint();
      if (queue.size >= batchBytes || fileBytes + backlog + queue.size >= rotateBytes) flushNow();
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
    const target = queuedSeq;
    while (writtenSeq < target) {
      let pending = writing;
      if (pending === undefined) {
        sealQueue();
        afterWrite();
        if (writtenSeq >= target) return true;
        pending = writing;
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
      if (broken !== undefined) return Promise.reject(broken);
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
      if (fsyncMode === 'batch') {
        while (syncing !== undefined || (writtenSeq > syncedSeq && broken === undefined)) {
          if (syncing === undefined) startSync();
          await syncing;
        }
        if (broken !== undefined) throw broken;
      }
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
      if (signing !== undefined && sinceCheckpoint > 0) writeCheckpoint();
      closed = true;
      if (checkpointTimer !== undefined) clearInterval(checkpointTimer);
      if (retryTimer !== undefined) clearTimeout(retryTimer);
      retryTimer = undefined;
      await writeQueued();
      // Nothing may be in flight on the descriptor when it is closed.
      while (writing !== undefined) await writing;
      while (syncing !== undefined) await syncing;
      let failure: unknown;
      try {
        if (fsyncMode === 'batch' && broken === undefined && writtenSeq > syncedSeq) {
          fdatasyncSync(fd);
          syncs += 1;
          syncedSeq = writtenSeq;
        }
      } catch (error) {
        failure = error;
      }
      waiters.settle(syncedSeq);
      const lost = queue.records + backlogRecords;
      waiters.fail(Infinity, new Error(`audit sink ${name} closed before the record was written`));
      closeSync(fd);
      unlock();
      unregister();
      await Promise.allSettled([...anchorWrites]);
      if (failure !== undefined) throw failure;
      if (lost > 0)
        throw new Error(`audit sink ${name}: ${lost} record(s) could not be written before close`);
    },
    stats() {
      seal();
      const stats: JsonlAuditStats = {
        chain,
        seq,
        head,
        written,
        synced: fsyncMode === 'never' ? writtenSeq : syncedSeq,
        syncs,
        dropped,
        queued: queue.records + backlogRecords,
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
