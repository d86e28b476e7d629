import { type KeyObject, randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fdatasync,
  fdatasyncSync,
  mkdirSync,
  openSync,
  renameSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { parseDuration } from '../_internal/duration.ts';
import { ConfigurationError } from '../errors.ts';
import type { Awaitable, Duration } from '../types.ts';
import { type AuditCheckpoint, GENESIS_PREV, loadPrivateKey, signCheckpoint } from './chain.ts';
import { flushOnExit } from './exit.ts';
import { rotatedFiles } from './files.ts';
import { LineBatch } from './line-batch.ts';
import { readFirstRecord, readTail, sha256, sizeOf, writeAll } from './resume.ts';
import type { AuditEvent, AuditSink } from './types.ts';

/** Receives every signed checkpoint: store them where the log's writer cannot rewrite them. */
export interface CheckpointAnchor {
  readonly name?: string;
  write(checkpoint: AuditCheckpoint): Awaitable<void>;
}

/** Signed checkpoints of a JSONL audit log. */
export interface CheckpointOptions {
  /** Ed25519 private key (KeyObject or PEM). */
  readonly privateKey: KeyObject | string;
  /** Id of the key, recorded in every checkpoint so verifiers pick the right public key. */
  readonly keyId: string;
  /** Sign after this many records. @default 1000 */
  readonly every?: number;
  /** And at least this often while records arrive. @default '1m' */
  readonly interval?: Duration;
  /**
   * Also send each checkpoint here (an external anchor): a `CheckpointAnchor` such as
   * `fileAnchor()`, or any audit sink (another `jsonlAudit` on another disk records them as events).
   */
  readonly anchor?: CheckpointAnchor | AuditSink;
}

/** Options of `jsonlAudit`. */
export interface JsonlAuditOptions {
  /** The active log file; rotated files are `<path>.<index>`. */
  readonly path: string;
  /** Sink name in `error` events. @default 'jsonl' */
  readonly name?: string;
  /**
   * `'batch'`: every batch is `fdatasync`ed (one sync in flight, covering all records written
   * before it started: group commit). `'never'`: leave it to the OS; durable writes then resolve
   * once the OS has the bytes (safe against a process crash, not against power loss).
   * @default 'batch'
   */
  readonly fsync?: 'batch' | 'never';
  /** Write at once when this many bytes are buffered (otherwise at the end of the tick). @default 262_144 */
  readonly batchBytes?: number;
  /** Best-effort records are written at most this many milliseconds after they arrive. @default 10 */
  readonly flushInterval?: number;
  /** Records buffered at most; beyond it, best-effort writes are dropped and counted. @default 100_000 */
  readonly maxQueue?: number;
  /** Start a new file when the active one reaches this size. */
  readonly rotate?: { readonly maxBytes: number };
  /** Periodic Ed25519-signed checkpoints. */
  readonly checkpoint?: CheckpointOptions;
  /** Flush synchronously on exit and on SIGINT / SIGTERM / SIGHUP. @default true */
  readonly flushOnExit?: boolean;
}

/** Counters of a JSONL sink. */
export interface JsonlAuditStats {
  /** Id of the chain. */
  readonly chain: string;
  /** Sequence number of the last record. */
  readonly seq: number;
  /** Hash of the last record. */
  readonly head: string;
  /** Records written to the OS. */
  readonly written: number;
  /** Events dropped (queue full or unserializable); each streak leaves a `gap` record. */
  readonly dropped: number;
  /** Records waiting to be written. */
  readonly queued: number;
  /** The last checkpoint written, if any. */
  readonly lastCheckpoint?: AuditCheckpoint;
}

/** A hash-chained JSONL audit sink. */
export interface JsonlAuditSink extends AuditSink {
  readonly path: string;
  writeDurable(event: AuditEvent): Promise<void>;
  onError(handler: (error: unknown) => void): void;
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Writes a signed checkpoint now (needs `checkpoint` options). */
  checkpoint(): Promise<AuditCheckpoint | undefined>;
  stats(): JsonlAuditStats;
}

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

const RETRY_FIRST_MS = 50;
/** Initial buffer of a batch; it grows to hold a batch (`batchBytes` and the line crossing it). */
const INITIAL_BATCH = 64 * 1024;
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
  if (
    typeof options !== 'object' ||
    options === null ||
    typeof options.path !== 'string' ||
    options.path === ''
  )
    throw new ConfigurationError('jsonlAudit() needs a path');
  const path = options.path;
  const name = options.name ?? 'jsonl';
  const fsyncMode = options.fsync ?? 'batch';
  if (fsyncMode !== 'batch' && fsyncMode !== 'never')
    throw new ConfigurationError(`jsonlAudit fsync must be 'batch' or 'never'`);
  const batchBytes = positive(options.batchBytes ?? 262_144, 'batchBytes');
  const flushInterval = options.flushInterval ?? 10;
  if (typeof flushInterval !== 'number' || !Number.isFinite(flushInterval) || flushInterval < 0)
    throw new ConfigurationError('jsonlAudit flushInterval must be a number of milliseconds');
  const maxQueue = positive(options.maxQueue ?? 100_000, 'maxQueue');
  const rotateBytes =
    options.rotate === undefined ? Infinity : positive(options.rotate.maxBytes, 'rotate.maxBytes');
  const cp = options.checkpoint;
  const signing =
    cp === undefined
      ? undefined
      : {
          key: loadPrivateKey(cp.privateKey, 'checkpoint.privateKey'),
          keyId: nonEmpty(cp.keyId, 'checkpoint.keyId'),
          every: positive(cp.every ?? 1000, 'checkpoint.every'),
          intervalMs: parseDuration(cp.interval ?? '1m', 'checkpoint.interval'),
          anchor: cp.anchor,
        };
  if (signing?.anchor !== undefined && typeof signing.anchor.write !== 'function')
    throw new ConfigurationError('checkpoint.anchor must have a write() method');

  // State of the chain and the file.
  let fd: number;
  let fileIndex: number;
  let fileBytes: number;
  let chain: string;
  let seq: number;
  let head: string;
  // Records are encoded straight into the pending batch; `out` is the batch being written, kept
  // with its position when a write fails, while new records go to a fresh batch.
  let queue = new LineBatch(INITIAL_BATCH);
  let spare: LineBatch | undefined;
  let queuedSeq: number;
  let out: { batch: LineBatch; buffer: Buffer; offset: number; seq: number; records: number } | undefined;
  let writtenSeq: number;
  let syncedSeq: number;
  let written = 0;
  let dropped = 0;
  let droppedStreak = 0;
  let sinceCheckpoint = 0;
  let lastCheckpoint: AuditCheckpoint | undefined;
  let waiters: Waiter[] = [];
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

  const append = (kind: 'file' | 'event' | 'checkpoint' | 'gap', payload: unknown): number =>
    push(queue.record(kind, payload, seq + 1, head));
  // An event goes in as it is: fields set to undefined are left out, as JSON leaves them out.
  const appendEvent = (event: AuditEvent): number =>
    push(queue.event(event as unknown as Record<string, unknown>, seq + 1, head));
  const push = (hash: string): number => {
    const next = seq + 1;
    seq = next;
    head = hash;
    queuedSeq = next;
    sinceCheckpoint += 1;
    return next;
  };

  // --- open: resume the chain, repair a torn tail, or start a new one ---
  try {
    mkdirSync(dirname(path), { recursive: true });
    const rotated = rotatedFiles(path);
    const activeSize = existsSync(path) ? sizeOf(path) : 0;
    if (activeSize > 0) {
      const first = readFirstRecord(path);
      fileIndex = first.index;
      chain = first.chain;
      const tail = readTail(path, activeSize);
      seq = tail.seq;
      head = tail.hash;
      queuedSeq = seq;
      fd = openSync(path, 'a');
      fileBytes = activeSize;
      if (tail.torn !== undefined) {
        // Close the torn line, then record what it was; verifiers accept it as a repaired gap.
        writeAll(fd, Buffer.from('\n'));
        fileBytes += 1;
        append('gap', { reason: 'torn', bytes: tail.torn.length, sha256: sha256(tail.torn), ts: Date.now() });
      }
    } else if (rotated.length > 0) {
      const last = rotated[rotated.length - 1]!;
      const tail = readTail(last.path, sizeOf(last.path));
      const first = readFirstRecord(last.path);
      chain = first.chain;
      seq = tail.seq;
      head = tail.hash;
      queuedSeq = seq;
      fileIndex = last.index + 1;
      fd = openSync(path, 'a');
      fileBytes = 0;
      append('file', { chain, index: fileIndex, ts: Date.now() });
    } else {
      chain = randomUUID();
      seq = -1;
      head = GENESIS_PREV;
      queuedSeq = seq;
      fileIndex = 0;
      fd = openSync(path, 'a');
      fileBytes = 0;
      append('file', { chain, index: 0, ts: Date.now() });
    }
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw new ConfigurationError(`jsonlAudit cannot open ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  writtenSeq = seq - queue.records;
  syncedSeq = writtenSeq;
  sinceCheckpoint = 0;

  const settleWaiters = (upTo: number) => {
    if (waiters.length === 0 || waiters[0]!.seq > upTo) return;
    const keep: Waiter[] = [];
    for (const waiter of waiters) {
      if (waiter.seq <= upTo) waiter.resolve();
      else keep.push(waiter);
    }
    waiters = keep;
  };
  const failWaiters = (upTo: number, error: unknown) => {
    const keep: Waiter[] = [];
    for (const waiter of waiters) {
      if (waiter.seq <= upTo) waiter.reject(error);
      else keep.push(waiter);
    }
    waiters = keep;
  };

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
          failWaiters(Infinity, error);
          report(error);
        } else {
          syncedSeq = Math.max(syncedSeq, target);
          settleWaiters(syncedSeq);
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

  // Writes the buffered records with blocking writes: ordered, never interleaved, and the exit
  // handler can finish the job synchronously.
  const flushNow = (): boolean => {
    flushScheduled = false;
    if (delayTimer !== undefined) {
      clearTimeout(delayTimer);
      delayTimer = undefined;
    }
    if (out === undefined) {
      if (queue.records === 0) return true;
      out = { batch: queue, buffer: queue.bytes(), offset: 0, seq: queuedSeq, records: queue.records };
      queue = spare ?? new LineBatch(INITIAL_BATCH);
      spare = undefined;
    }
    try {
      while (out.offset < out.buffer.length) {
        out.offset += writeSync(fd, out.buffer, out.offset, out.buffer.length - out.offset);
      }
    } catch (error) {
      // Keep the rest of the batch (and its position) for a retry; calls waiting on it fail now.
      failWaiters(out.seq, error);
      report(error);
      scheduleRetry();
      return false;
    }
    fileBytes += out.buffer.length;
    written += out.records;
    writtenSeq = out.seq;
    // Written: its buffer serves the next batch, unless a huge record made it grow far past a batch.
    if (out.batch.capacity <= Math.max(2 * batchBytes, INITIAL_BATCH)) {
      out.batch.clear();
      spare = out.batch;
    }
    out = undefined;
    retryDelay = RETRY_FIRST_MS;
    if (fsyncMode === 'never') settleWaiters(writtenSeq);
    else startSync();
    if (signing !== undefined && sinceCheckpoint >= signing.every) writeCheckpoint();
    maybeRotate();
    if (queue.records > 0) scheduleFlush(waiters.length > 0);
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
      if (options.flushOnExit !== false) delayTimer.unref?.();
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
    if (fileBytes < rotateBytes || out !== undefined || closed) return;
    try {
      if (fsyncMode === 'batch' && broken === undefined) {
        fdatasyncSync(fd);
        syncedSeq = writtenSeq;
        settleWaiters(syncedSeq);
      }
      // A sync still in flight holds the old descriptor: close it once that sync is done.
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
    const ts = Date.now();
    const next = seq + 1;
    const fields = { chain, keyId: signing.keyId, prev: head, seq: next, ts };
    const sig = signCheckpoint(fields, signing.key);
    const prev = head;
    append('checkpoint', { chain, keyId: signing.keyId, sig, ts });
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
    if (closed && out === undefined && queue.records === 0) return;
    flushNow();
    if (fsyncMode === 'batch' && broken === undefined && writtenSeq > syncedSeq) {
      fdatasyncSync(fd);
      syncedSeq = writtenSeq;
      settleWaiters(syncedSeq);
    }
  };
  const unregister = options.flushOnExit === false ? () => {} : flushOnExit({ flushSync });

  const enqueue = (event: AuditEvent): number => {
    if (closed) throw new Error(`audit sink ${name} is closed`);
    if (queue.records >= maxQueue) {
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
      if (queue.size >= batchBytes || fileBytes + queue.size >= rotateBytes) flushNow();
      else scheduleFlush();
      return at;
    } catch (error) {
      dropped += 1;
      droppedStreak += 1;
      report(error);
      throw error;
    }
  };

  return {
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
        waiters.push({ seq: at, resolve, reject });
      });
    },
    onError(handler) {
      handlers.push(handler);
    },
    async flush() {
      if (!flushNow()) throw new Error(`audit sink ${name}: write failed; records kept for retry`);
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
      flushNow();
      while (syncing !== undefined) await syncing;
      let failure: unknown;
      try {
        if (fsyncMode === 'batch' && broken === undefined && writtenSeq > syncedSeq) {
          fdatasyncSync(fd);
          syncedSeq = writtenSeq;
        }
      } catch (error) {
        failure = error;
      }
      settleWaiters(syncedSeq);
      const lost = out === undefined ? 0 : out.records;
      failWaiters(Infinity, new Error(`audit sink ${name} closed before the record was written`));
      closeSync(fd);
      unregister();
      await Promise.allSettled([...anchorWrites]);
      if (failure !== undefined) throw failure;
      if (lost > 0)
        throw new Error(`audit sink ${name}: ${lost} record(s) could not be written before close`);
    },
    stats() {
      const stats: JsonlAuditStats = {
        chain,
        seq,
        head,
        written,
        dropped,
        queued: queue.records + (out?.records ?? 0),
      };
      return lastCheckpoint === undefined ? stats : { ...stats, lastCheckpoint };
    },
  };
}

/** Own enumerable properties (getters read once), without `undefined` values. */
function positive(value: number, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
    throw new ConfigurationError(`jsonlAudit ${what} must be a positive integer`);
  return value;
}

function nonEmpty(value: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new ConfigurationError(`jsonlAudit ${what} must be a non-empty string`);
  return value;
}

export type { AuditCheckpoint } from './chain.ts';
