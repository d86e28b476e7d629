import { writeSync } from 'node:fs';
import { constants } from 'node:os';
import { Worker } from 'node:worker_threads';

// Batches of audit lines are written to their file by one worker thread shared by every JSONL
// sink of the process, so the main thread serializes and hashes the next records while the disk
// takes the last ones. The result of each write is also kept in shared memory, so the exit
// handler, which cannot wait for a message, can block until a write in flight is done and know
// how much of it reached the file (`OffThreadWrite.waitSync`).

/** What a write did: how many of its bytes reached the file, and the error that stopped it, if any. */
export interface WriteResult {
  readonly offset: number;
  readonly error: Error | undefined;
}

/** One batch on its way to the file. */
export interface OffThreadWrite {
  /** Settles when the write is done (never rejects: a failure is in the result). */
  readonly done: Promise<WriteResult>;
  /**
   * Blocks until the write is done, for up to `timeoutMs`; the result, or undefined when it did
   * not finish in time (the thread is stuck or gone).
   */
  waitSync(timeoutMs: number): WriteResult | undefined;
}

// The worker: writes each batch with blocking writes, in the order they come, and publishes the
// result in the job's shared cells before it answers: [finished, bytes written, failed (the
// error's errno, or 1), taken].
// A result the main thread already took from shared memory (taken) needs no answer.
const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
parentPort.on('message', (job) => {
  const bytes = job.bytes;
  let offset = 0;
  let error = null;
  try {
    while (offset < bytes.length) offset += writeSync(job.fd, bytes, offset, bytes.length - offset);
  } catch (e) {
    error = { message: String(e && e.message), code: e && e.code, errno: e && e.errno };
  }
  Atomics.store(job.cells, 1, offset);
  Atomics.store(job.cells, 2, error === null ? 0 : Math.abs(Number(error.errno)) || 1);
  Atomics.store(job.cells, 0, 1);
  Atomics.notify(job.cells, 0);
  if (Atomics.load(job.cells, 3) === 0) parentPort.postMessage({ id: job.id, offset, error });
});
`;

interface Pending {
  readonly resolve: (result: WriteResult) => void;
  readonly cells: Int32Array;
}

let worker: Worker | undefined;
/** Set when a worker cannot be started here (or failed): writes then happen on the calling thread. */
let unavailable = false;
let nextId = 0;
const pending = new Map<number, Pending>();

function failAll(error: Error): void {
  for (const [id, job] of pending) {
    pending.delete(id);
    // A write that finished before the thread went away stands.
    const wrote = Atomics.load(job.cells, 0) === 1 && Atomics.load(job.cells, 2) === 0;
    job.resolve({ offset: Atomics.load(job.cells, 1), error: wrote ? undefined : error });
  }
}

function theWorker(): Worker | undefined {
  if (worker !== undefined || unavailable) return worker;
  try {
    const started = new Worker(SOURCE, { eval: true, stdout: false, stderr: false });
    started.unref();
    started.on(
      'message',
      (message: { id: number; offset: number; error: { message: string; code?: string } | null }) => {
        const job = pending.get(message.id);
        if (job === undefined) return;
        pending.delete(message.id);
        if (pending.size === 0) started.unref();
        const error =
          message.error === null
            ? undefined
            : Object.assign(new Error(message.error.message), { code: message.error.code });
        job.resolve({ offset: message.offset, error });
      },
    );
    const gone = (error: Error) => {
      if (worker === started) worker = undefined;
      failAll(error);
    };
    // A thread that failed (it cannot start here, say) is not started again: writes stay here.
    started.on('error', (error: Error) => {
      unavailable = true;
      gone(error);
    });
    started.on('exit', () => gone(new Error('audit write thread exited')));
    worker = started;
  } catch {
    unavailable = true;
  }
  return worker;
}

/**
 * A buffer on shared memory: handed to the write thread as it is, where other bytes are copied.
 * (Plain memory where a SharedArrayBuffer cannot be made.)
 */
export function sharedBytes(size: number): Buffer {
  return typeof SharedArrayBuffer === 'function'
    ? Buffer.from(new SharedArrayBuffer(size))
    : Buffer.allocUnsafe(size);
}

/**
 * Writes `bytes` to the end of `fd`, opened for appending, on the write thread (on the calling
 * thread where no worker can be started). Bytes on shared memory (`sharedBytes`) are written where
 * they lie and must not change until the write is done; others are copied now.
 */
export function writeOffThread(fd: number, bytes: Uint8Array): OffThreadWrite {
  const thread = theWorker();
  if (thread === undefined) {
    let offset = 0;
    let error: Error | undefined;
    try {
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
    } catch (caught) {
      error = caught as Error;
    }
    const result = { offset, error };
    return { done: Promise.resolve(result), waitSync: () => result };
  }
  let shared = bytes;
  if (!(bytes.buffer instanceof SharedArrayBuffer)) {
    shared = new Uint8Array(new SharedArrayBuffer(bytes.length));
    shared.set(bytes);
  }
  const cells = new Int32Array(new SharedArrayBuffer(16));
  const id = nextId++;
  let resolve!: (result: WriteResult) => void;
  const done = new Promise<WriteResult>((settle) => {
    resolve = settle;
  });
  pending.set(id, { resolve, cells });
  // The process stays up while a write is in flight.
  thread.ref();
  thread.postMessage({ id, fd, bytes: shared, cells });
  return {
    done,
    waitSync(timeoutMs) {
      const until = Date.now() + timeoutMs;
      while (Atomics.load(cells, 0) === 0) {
        const left = until - Date.now();
        if (left <= 0 || !pending.has(id)) break;
        Atomics.wait(cells, 0, 0, left);
      }
      if (Atomics.load(cells, 0) === 0) return undefined;
      const result = {
        offset: Atomics.load(cells, 1),
        error: failure(Atomics.load(cells, 2)),
      };
      // Taken here: the thread need not answer (a busy main thread would only read it later).
      Atomics.store(cells, 3, 1);
      const job = pending.get(id);
      if (job !== undefined) {
        pending.delete(id);
        if (pending.size === 0) thread.unref();
        job.resolve(result);
      }
      return result;
    },
  };
}

/** The error of a write that failed on the write thread, from its shared cell (0: none). */
function failure(errno: number): Error | undefined {
  if (errno === 0) return undefined;
  const code = errno === 1 ? undefined : errnoCodes.get(errno);
  return Object.assign(
    new Error(`audit write failed on the write thread${code === undefined ? '' : `: ${code}`}`),
    {
      code,
    },
  );
}

const errnoCodes = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value as number, name]),
);
