import { hash } from 'node:crypto';
import { definedEntries } from '../_internal/canonical.ts';
import { captureJson } from '../_internal/canonical-capture.ts';
import { CanonicalWriter, encodedWrite } from '../_internal/canonical-writer.ts';
import { RECORD_DOMAIN_BYTES } from './chain.ts';
import { classArgsHash, hasClassArgsHash } from './event-fields.ts';

// The writing side of the hash chain (src/audit/chain.ts holds the format, hashing and parsing).

/** Bytes before the first line of a `LineBatch`: room for the domain of its hash input. */
const HEADROOM = RECORD_DOMAIN_BYTES.length;
const HASH_OPEN = Buffer.from(',"hash":"', 'latin1');
/** `,"hash":"<64 hex>"}` and the newline take the place of a record's closing brace. */
const TAIL = HASH_OPEN.length + 64 + 3;
// Hex strings of 64 characters: one native copy is about twice as fast as a loop.
const latin1Write = encodedWrite(Buffer.prototype, 'latin1Write', 'latin1');
/** The bytes of the line before that a record's hash domain covers: its hash's end, `"}` and `\n`. */
const COVERED_HEX = HEADROOM - 3;

/**
 * Chain lines waiting to be written, each encoded once, in place, in one growing buffer.
 *
 * An audit event is captured when it is appended (every property read once, now: what is recorded
 * is the event as it was then, whatever happens to it later; see src/_internal/canonical-capture.ts)
 * and serialized as canonical JSON UTF-8 at the end of the batch once eight wait (or the batch is
 * sealed), with room left for what only the chain can fill in: the previous record's hash (`prev`)
 * and its own. `seal` then fills them in, in order: the previous hash goes into `prev`, the record
 * is hashed where it lies (the domain is written just before it, over the end of the line before,
 * which is put back after), and its closing brace becomes the `,"hash":"<hex>"}` tail and newline.
 * So most calls pay only for reading their events; serialization runs eight records at a time,
 * and the chain whenever its owner seals (the JSONL sink: after each eight, and before a batch is
 * written or its head is needed). Same bytes as
 * `buildLine`; no per-line buffers, no copies.
 */
export class LineBatch {
  private readonly writer: CanonicalWriter;
  /** Hash of the last sealed line, whose last bytes the next line's domain covers while it is hashed. */
  private last: string | undefined;
  /** Of each record serialized since the last seal: where it starts, where its `prev` goes, where it ends. */
  private readonly unsealedAt: number[] = [];
  /** Events captured and not yet serialized, in order. */
  private readonly captured: CapturedEvent[] = [];
  /** Bytes per line of the records serialized so far: the estimate for the captured ones. */
  private bytesPerRecord = ESTIMATED_LINE;
  /** Lines in the batch. */
  records = 0;

  /**
   * `lost` hears of a captured event that could not be serialized after all (a gap took its place);
   * `allocate` makes the batch's buffers (shared memory, for the write thread).
   */
  constructor(
    capacity: number = 64 * 1024,
    private readonly lost: (error: unknown) => void = () => {},
    allocate?: (size: number) => Buffer,
  ) {
    this.writer = new CanonicalWriter(Math.max(capacity, HEADROOM + 1), allocate);
    this.writer.length = HEADROOM;
  }

  /**
   * Bytes of the lines in the batch: exact for the records serialized so far (a seal does not
   * change it), estimated for the events captured since.
   */
  get size(): number {
    return this.writer.length - HEADROOM + this.captured.length * this.bytesPerRecord;
  }

  /** Bytes the batch holds on to (for dropping one that grew for a huge line). */
  get capacity(): number {
    return this.writer.bytes.length;
  }

  /** Records appended since the last seal. */
  get unsealed(): number {
    return this.unsealedAt.length / 3 + this.captured.length;
  }

  /**
   * Appends the line of an audit event whose fields set to `undefined` are left out (as JSON
   * leaves them out), capturing it now and serializing it with the next ones. A call
   * event's `argsHash` is written whether or not it is an own property yet
   * (src/audit/event-fields.ts). Throws, appending nothing, when it is not JSON data.
   */
  event(event: Readonly<Record<string, unknown>>, seq: number): void {
    if (!Number.isSafeInteger(seq) || seq < 0) throw new TypeError('LineBatch: malformed seq');
    const { keys, values } = definedEntries(event);
    for (let i = 0; i < values.length; i++) values[i] = captureJson(values[i]);
    // A call event's hash of its frozen arguments reads the same later: it is read when serialized.
    const classHashOf = hasClassArgsHash(event) ? event : undefined;
    this.captured.push(new CapturedEvent(seq, keys, values, classHashOf));
    this.records += 1;
    // Serialized a few at a time, so captures die young (the garbage collector never copies them)
    // and no single call carries much of the work.
    if (this.captured.length >= SERIALIZE_EVERY) this.serializeCaptured();
  }

  /** Appends a line of any kind. Throws, appending nothing, when the payload is not JSON data. */
  record(kind: 'file' | 'event' | 'checkpoint' | 'gap', payload: unknown, seq: number): void {
    this.serializeCaptured();
    this.append(kind, payload, seq);
    this.records += 1;
  }

  /**
   * Completes the records appended since the last seal, the first of them following the record
   * whose hash is `prev`; returns the hash of the last one (`prev` when there was none).
   */
  seal(prev: string): string {
    this.serializeCaptured();
    const at = this.unsealedAt;
    if (at.length === 0) return prev;
    if (!HEX64.test(prev)) throw new TypeError('LineBatch: malformed prev');
    const writer = this.writer;
    const out = writer.bytes;
    let head = prev;
    for (let r = 0; r < at.length; r += 3) {
      const start = at[r]!;
      const end = at[r + 2]!;
      latin1Write.call(out, head, at[r + 1]!, 64);
      const domainAt = start - HEADROOM;
      for (let i = 0; i < HEADROOM; i++) out[domainAt + i] = RECORD_DOMAIN_BYTES[i]!;
      const digest = hash('sha256', out.subarray(domainAt, end), 'hex');
      // Put back what the domain covered: the end of the line before (its hash, `"}` and a newline).
      const last = this.last;
      if (last !== undefined) {
        let q = domainAt;
        for (let i = 64 - COVERED_HEX; i < 64; i++) out[q++] = last.charCodeAt(i);
        out[q++] = 0x22;
        out[q++] = 0x7d;
        out[q] = 0x0a;
      }
      // The record's closing brace becomes `,"hash":"<hex>"}` and the newline.
      let q = end - 1;
      for (let i = 0; i < HASH_OPEN.length; i++) out[q++] = HASH_OPEN[i]!;
      q += latin1Write.call(out, digest, q, 64);
      out[q++] = 0x22;
      out[q++] = 0x7d;
      out[q] = 0x0a;
      this.last = digest;
      head = digest;
    }
    at.length = 0;
    return head;
  }

  /**
   * The lines, newline-terminated: a view of the batch's buffer, valid until `clear()` or the next
   * append. Every record must be sealed.
   */
  bytes(): Buffer {
    if (this.unsealed > 0) throw new Error('LineBatch: records not sealed');
    return this.writer.bytes.subarray(HEADROOM, this.writer.length);
  }

  /** Empties the batch, keeping its buffer. */
  clear(): void {
    this.writer.length = HEADROOM;
    this.last = undefined;
    this.unsealedAt.length = 0;
    this.captured.length = 0;
    this.records = 0;
  }

  /** Serializes the captured events, in order, into the batch. */
  private serializeCaptured(): void {
    const captured = this.captured;
    if (captured.length === 0) return;
    for (let i = 0; i < captured.length; i++) {
      const event = captured[i]!;
      try {
        const hash = event.classHashOf === undefined ? undefined : classArgsHash(event.classHashOf);
        this.append('event', event, event.seq, hash);
      } catch (error) {
        // Cannot happen for what a capture holds; if it does, the hole is recorded, never silent.
        this.append('gap', { reason: 'dropped', count: 1, ts: Date.now() }, event.seq);
        this.lost(error);
      }
    }
    captured.length = 0;
    this.bytesPerRecord = Math.max(ESTIMATED_LINE / 4, Math.ceil(this.size / Math.max(1, this.records)));
  }

  /**
   * Serializes one record with room for its chain fields. `payload` is a captured event (its
   * `argsHash`, read through its class, is `argsHash`) or, for other kinds, plain data.
   */
  private append(
    kind: 'file' | 'event' | 'checkpoint' | 'gap',
    payload: unknown,
    seq: number,
    argsHash?: string,
  ): void {
    // It comes from the writer's own chain state; a cheap check keeps a bug from writing garbage.
    if (!Number.isSafeInteger(seq) || seq < 0) throw new TypeError('LineBatch: malformed seq');
    const writer = this.writer;
    const start = writer.length;
    let prevAt: number;
    // `{"<kind>":<payload>,"prev":"<hex>","seq":<n>,"v":1}`: every kind sorts before `prev`.
    try {
      writer.ascii(kind === 'event' ? '{"event":' : `{"${kind}":`);
      if (payload instanceof CapturedEvent) writer.object(payload.keys, payload.values, 'argsHash', argsHash);
      else writer.value(payload);
      writer.ascii(',"prev":"');
      // Room for the previous record's hash, filled in by `seal`.
      writer.reserve(64);
      prevAt = writer.length;
      writer.length += 64;
      writer.ascii('","seq":');
      writer.number(seq);
      writer.ascii(',"v":1}');
    } catch (error) {
      writer.length = start;
      throw error;
    }
    const end = writer.length;
    // Room for the hash tail, which replaces the closing brace.
    writer.reserve(TAIL - 1);
    writer.length = end - 1 + TAIL;
    this.unsealedAt.push(start, prevAt, end);
  }
}

/** An audit event read when it was appended (its own fields, captured), waiting to be serialized. */
class CapturedEvent {
  constructor(
    readonly seq: number,
    readonly keys: readonly string[],
    readonly values: readonly unknown[],
    /** The event itself when its `argsHash` is read through its class (see `classArgsHash`). */
    readonly classHashOf: object | undefined,
  ) {}
}

/** Captured events are serialized once this many wait (and the JSONL sink seals them then). */
export const SERIALIZE_EVERY = 8;
/** What a line is taken to weigh until the batch has serialized some. */
const ESTIMATED_LINE = 512;

const HEX64 = /^[0-9a-f]{64}$/;
