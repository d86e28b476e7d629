import { closeSync, openSync, renameSync, writeSync } from 'node:fs';
import { JsonlSync, type JsonlSyncEvents } from './jsonl-sync.ts';
import type { LineBatch } from './line-batch.ts';
import { type OffThreadWrite, writeOffThread } from './write-thread.ts';

/**
 * Batches from this size on go to the write thread; smaller ones (a trickle of calls, a group
 * commit of a few durable records) are written on the calling thread, where they cost less than
 * waking the thread, and a process that writes only a few records never starts it.
 */
const OFF_THREAD_BYTES = 64 * 1024;
/** How long the exit handler (or rotation) waits for a write in flight on the write thread. */
const WAIT_IN_FLIGHT_MS = 10_000;

/** Chain lines sealed into a batch for the file: its buffer, its last record's `seq`, its records. */
export interface SealedBatch {
  readonly batch: LineBatch;
  readonly buffer: Buffer;
  readonly seq: number;
  readonly records: number;
}

/** A sealed batch on its way to the file; `offset` of its bytes are written. */
interface Out extends SealedBatch {
  offset: number;
}

/** What a `JsonlWriter` (and its `JsonlSync`) tells its sink. */
export interface JsonlWriterEvents extends JsonlSyncEvents {
  /** A batch is in the file: its buffer may serve again. */
  written(batch: LineBatch): void;
  /** A write failed (reported already): the rest of its batch is kept, to be retried. */
  failed(): void;
  /** A write on the write thread completed: checkpoints, rotation and the next batch may follow. */
  drained(): void;
}

/**
 * The file side of a JSONL audit log: appends sealed batches to the active file in order (large
 * ones on the write thread, src/audit/write-thread.ts; small ones, and every one in the exit
 * handler, rotation and backpressure, with blocking writes here), hands what it wrote to its
 * `JsonlSync` (src/audit/jsonl-sync.ts), and rotates the file. A failed write keeps the rest of
 * its batch, and its position, for a retry, and fails the durable writes waiting for it.
 */
export class JsonlWriter {
  #fd: number;
  #fileIndex: number;
  #fileBytes: number;
  /** The sealed batches not yet written, in order (the first one kept with its offset after a failure). */
  readonly #outs: Out[] = [];
  #backlog = 0;
  #backlogRecords = 0;
  /** The write in flight on the write thread, until its result is taken (here or synchronously). */
  #inFlight: { readonly job: Out; readonly write: OffThreadWrite } | undefined;
  /** Settles when the write in flight has answered (true when it wrote its batch). */
  #writing: Promise<boolean> | undefined;
  #written = 0;

  /** Durability of what was written. */
  readonly sync: JsonlSync;

  /**
   * Writes to the file `fd` open on `path` (active file `fileIndex`, `fileBytes` long, holding the
   * chain up to record `seq`).
   */
  constructor(
    private readonly path: string,
    private readonly name: string,
    fsyncMode: 'batch' | 'never',
    opened: {
      readonly fd: number;
      readonly fileIndex: number;
      readonly fileBytes: number;
      readonly seq: number;
    },
    private readonly events: JsonlWriterEvents,
  ) {
    this.#fd = opened.fd;
    this.#fileIndex = opened.fileIndex;
    this.#fileBytes = opened.fileBytes;
    this.sync = new JsonlSync(fsyncMode, () => this.#fd, opened.seq, events);
  }

  /** Index of the active file (rotated files are `<path>.<index>`). */
  get fileIndex(): number {
    return this.#fileIndex;
  }
  /** Bytes in the active file. */
  get fileBytes(): number {
    return this.#fileBytes;
  }
  /** Bytes of the sealed batches not yet written. */
  get backlog(): number {
    return this.#backlog;
  }
  /** Records of the sealed batches not yet written. */
  get backlogRecords(): number {
    return this.#backlogRecords;
  }
  /** Sealed batches not yet written. */
  get pending(): number {
    return this.#outs.length;
  }
  /** Whether a write is in flight on the write thread. */
  get busy(): boolean {
    return this.#inFlight !== undefined;
  }
  /** Settles when the write in flight has answered: true when it wrote its batch. */
  get writing(): Promise<boolean> | undefined {
    return this.#writing;
  }
  /** Records written to the OS. */
  get written(): number {
    return this.#written;
  }

  /** Puts a sealed batch on its way to the file, after the ones already on their way. */
  add(sealed: SealedBatch): void {
    this.#outs.push({ ...sealed, offset: 0 });
    this.#backlog += sealed.buffer.length;
    this.#backlogRecords += sealed.records;
  }

  /**
   * Takes the result of the write in flight if it is done, or waits for it when another batch
   * waits behind it. 'idle': none in flight; 'written': it wrote its batch; 'pending': not done,
   * and nothing waits behind it; 'failed': it failed (kept for a retry) or did not answer in time.
   */
  collect(): 'idle' | 'written' | 'pending' | 'failed' {
    const flight = this.#inFlight;
    if (flight === undefined) return 'idle';
    const result = flight.write.waitSync(this.#outs.length > 1 ? WAIT_IN_FLIGHT_MS : 0);
    if (result === undefined) {
      if (this.#outs.length <= 1) return 'pending';
      this.#stuck();
      return 'failed';
    }
    return this.#takeResult(flight, result.offset, result.error) ? 'written' : 'failed';
  }

  /**
   * Writes the next sealed batch, unless a write is in flight: 'started' on the write thread (a
   * large one), 'written' here (a small one), 'failed' (kept for a retry), 'idle' (nothing to do).
   */
  writeNext(): 'idle' | 'started' | 'written' | 'failed' {
    const job = this.#outs[0];
    if (this.#inFlight !== undefined || job === undefined) return 'idle';
    if (job.buffer.length - job.offset < OFF_THREAD_BYTES) return this.#writeHere(job) ? 'written' : 'failed';
    const flight = { job, write: writeOffThread(this.#fd, job.buffer.subarray(job.offset)) };
    this.#inFlight = flight;
    this.#writing = flight.write.done.then(({ offset, error }) => {
      // Taken already, from shared memory (`collect`, `writeAllSync`).
      if (this.#inFlight !== flight) return true;
      const ok = this.#takeResult(flight, offset, error);
      if (ok) this.events.drained();
      return ok;
    });
    return 'started';
  }

  /**
   * Writes every sealed batch with blocking writes, in order, after waiting for the write in
   * flight on the write thread (its result says how much of its batch is in the file). For the
   * exit handler, rotation and backpressure. False when a write failed (the batch is kept for a
   * retry) or the write in flight did not answer in time.
   */
  writeAllSync(): boolean {
    const flight = this.#inFlight;
    if (flight !== undefined) {
      const result = flight.write.waitSync(WAIT_IN_FLIGHT_MS);
      if (result === undefined) {
        this.#stuck();
        return false;
      }
      // Its answer, when it comes, finds the batch taken over; what is missing is written below.
      flight.job.offset += result.offset;
      this.#inFlight = undefined;
      this.#writing = undefined;
    }
    while (this.#outs.length > 0) if (!this.#writeHere(this.#outs[0]!)) return false;
    return true;
  }

  /**
   * Syncs the active file (everything sealed is written first, by the caller), renames it to
   * `<path>.<index>` and opens a new one. Throws when a step fails.
   */
  rotate(): void {
    this.sync.now(true);
    // The write thread is done with the old descriptor (`writeAllSync` waited); a sync may not be.
    this.sync.closeAfter(this.#fd);
    renameSync(this.path, `${this.path}.${this.#fileIndex}`);
    this.#fileIndex += 1;
    this.#fd = openSync(this.path, 'a');
    this.#fileBytes = 0;
  }

  /**
   * Waits for the write and the sync in flight (nothing may be in flight on the descriptor when it
   * is closed), syncs the rest and tells the durable writes whose record is on disk. Returns the
   * error of that last sync, if any.
   */
  async finish(): Promise<unknown> {
    while (this.#writing !== undefined) await this.#writing;
    return this.sync.finish();
  }

  /** Closes the file (after `finish`). */
  close(): void {
    closeSync(this.#fd);
  }

  /** Takes the result of the write in flight (once): false when it failed (kept for a retry). */
  #takeResult(flight: { readonly job: Out }, offset: number, error: Error | undefined): boolean {
    this.#inFlight = undefined;
    this.#writing = undefined;
    const job = flight.job;
    job.offset += offset;
    if (error !== undefined || job.offset < job.buffer.length) {
      this.#failed(job, error ?? new Error(`audit sink ${this.name}: short write`));
      return false;
    }
    this.#completed(job);
    return true;
  }

  /** Writes a sealed batch (the first) on this thread; false when the write failed. */
  #writeHere(job: Out): boolean {
    try {
      let at = job.offset;
      while (at < job.buffer.length) at += writeSync(this.#fd, job.buffer, at, job.buffer.length - at);
      job.offset = at;
    } catch (error) {
      this.#failed(job, error);
      return false;
    }
    this.#completed(job);
    return true;
  }

  /** A batch is in the file: its records are handed to the sync. */
  #completed(job: Out): void {
    this.#outs.shift();
    this.#backlog -= job.buffer.length;
    this.#backlogRecords -= job.records;
    this.#fileBytes += job.buffer.length;
    this.#written += job.records;
    this.events.written(job.batch);
    this.sync.written(job.seq);
  }

  #stuck(): void {
    this.events.report(
      new Error(`audit sink ${this.name}: a write did not finish in ${WAIT_IN_FLIGHT_MS} ms`),
    );
  }

  #failed(job: Out, error: unknown): void {
    // The rest of the batch (and its position) is kept for a retry; calls waiting on it fail now.
    this.sync.waiters.fail(job.seq, error);
    this.events.report(error);
    this.events.failed();
  }
}
