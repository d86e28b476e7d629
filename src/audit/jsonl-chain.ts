import type { KeyObject } from 'node:crypto';
import { type AuditCheckpoint, signCheckpoint } from './chain.ts';
import type { SealedBatch } from './jsonl-writer.ts';
import { LineBatch, SERIALIZE_EVERY } from './line-batch.ts';
import { sharedBytes } from './write-thread.ts';

/** Initial buffer of a batch; it grows to hold a batch (`batchBytes` and the line crossing it). */
const INITIAL_BATCH = 64 * 1024;

/** A kind of chain record. */
type RecordKind = 'file' | 'event' | 'checkpoint' | 'gap';

/**
 * The chain side of a JSONL audit log: records appended to the batch being filled, and the state
 * of the hash chain (`seq`, `head`). Records are serialized on the caller's path; the chain
 * (`prev`, the hash, `head`) is filled in by `seal` for the records serialized so far: as events
 * are serialized (eight at a time), and before a batch is handed on or its head is needed.
 */
export class JsonlChain {
  /** Sequence number of the last record appended. */
  seq: number;
  /** Hash of the last record sealed (of the last one appended, after `seal`). */
  head: string;
  /** Records appended since the last checkpoint. */
  sinceCheckpoint = 0;
  #queue: LineBatch;
  /** A written batch's buffer, cleared, for the next batch. */
  #spare: LineBatch | undefined;

  /**
   * Continues chain `id` after record `seq` whose hash is `head`. `lost` hears of a captured event
   * that could not be serialized after all (a gap record takes its place).
   */
  constructor(
    readonly id: string,
    opened: { readonly seq: number; readonly head: string },
    private readonly batchBytes: number,
    private readonly lost: (error: unknown) => void,
  ) {
    this.seq = opened.seq;
    this.head = opened.head;
    this.#queue = this.#newBatch();
  }

  /** Records appended and not yet handed on. */
  get records(): number {
    return this.#queue.records;
  }

  /** Bytes of the records appended and not yet handed on (estimated for the last few). */
  get size(): number {
    return this.#queue.size;
  }

  /** Appends a record of this code's own (not an event); returns its sequence number. */
  record(kind: RecordKind, payload: unknown): number {
    this.#queue.record(kind, payload, this.seq + 1);
    return this.#appended();
  }

  /**
   * Appends an event as it is (fields set to undefined are left out, as JSON leaves them out);
   * returns its sequence number.
   */
  event(event: Readonly<Record<string, unknown>>): number {
    this.#queue.event(event, this.seq + 1);
    const at = this.#appended();
    // The chain is filled in as the records are serialized, eight at a time: the call that fills
    // a batch then hands it on without first hashing all of it (a spike of ~0.5 ms for 256 KiB).
    if (this.#queue.unsealed >= SERIALIZE_EVERY) this.seal();
    return at;
  }

  /** Completes the chain of the records appended so far: `head` is then the last record's hash. */
  seal(): void {
    this.head = this.#queue.seal(this.head);
  }

  /** Seals the records appended so far into a batch for the file; undefined when there are none. */
  take(): SealedBatch | undefined {
    const batch = this.#queue;
    if (batch.records === 0) return undefined;
    this.seal();
    this.#queue = this.#spare ?? this.#newBatch();
    this.#spare = undefined;
    return { batch, buffer: batch.bytes(), seq: this.seq, records: batch.records };
  }

  /** A batch is written: its buffer serves the next batch, unless a huge record made it grow far past a batch. */
  recycle(batch: LineBatch): void {
    if (this.#spare === undefined && batch.capacity <= Math.max(2 * this.batchBytes, INITIAL_BATCH)) {
      batch.clear();
      this.#spare = batch;
    }
  }

  /** Appends a checkpoint signed with `key`, covering the chain up to it; returns it. */
  checkpoint(key: KeyObject, keyId: string): AuditCheckpoint {
    // The signature covers the head of the chain: complete it first.
    this.seal();
    const ts = Date.now();
    const fields = { chain: this.id, keyId, prev: this.head, seq: this.seq + 1, ts };
    const sig = signCheckpoint(fields, key);
    const prev = this.head;
    this.record('checkpoint', { chain: this.id, keyId, sig, ts });
    this.seal();
    this.sinceCheckpoint = 0;
    return Object.freeze({ ...fields, prev, hash: this.head, sig });
  }

  #appended(): number {
    this.seq += 1;
    this.sinceCheckpoint += 1;
    return this.seq;
  }

  #newBatch(): LineBatch {
    return new LineBatch(INITIAL_BATCH, this.lost, sharedBytes);
  }
}
