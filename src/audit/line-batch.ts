import { hash } from 'node:crypto';
import { CanonicalWriter } from '../_internal/canonical-writer.ts';
import { RECORD_DOMAIN_BYTES } from './chain.ts';

// The writing side of the hash chain (src/audit/chain.ts holds the format, hashing and parsing).

/** Bytes before the first line of a `LineBatch`: room for the domain of its hash input. */
const HEADROOM = RECORD_DOMAIN_BYTES.length;
const HASH_OPEN_TEXT = ',"hash":"';

/**
 * Chain lines waiting to be written, each encoded once, in place, in one growing buffer: the
 * record is serialized as canonical JSON UTF-8 at the end of the batch, hashed where it lies (the
 * domain is written just before it, over the end of the line before, which is put back after),
 * and its closing brace becomes the `,"hash":"<hex>"}` tail and newline. Same bytes as
 * `buildLine`; no per-line buffers, no copies.
 */
export class LineBatch {
  private readonly writer: CanonicalWriter;
  /** Hash of the last line, whose last bytes the next line's domain covers while it is hashed. */
  private last: string | undefined;
  /** Lines in the batch. */
  records = 0;

  constructor(capacity: number = 64 * 1024) {
    this.writer = new CanonicalWriter(Math.max(capacity, HEADROOM + 1));
    this.writer.length = HEADROOM;
  }

  /** Bytes of the lines in the batch. */
  get size(): number {
    return this.writer.length - HEADROOM;
  }

  /** Bytes the batch holds on to (for dropping one that grew for a huge line). */
  get capacity(): number {
    return this.writer.bytes.length;
  }

  /**
   * Appends the line of an audit event whose fields set to `undefined` are left out (as JSON
   * leaves them out), and returns its hash. Throws, appending nothing, when it is not JSON data.
   */
  event(event: Readonly<Record<string, unknown>>, seq: number, prev: string): string {
    return this.append('event', event, true, seq, prev);
  }

  /** Appends a line of any kind and returns its hash. Throws, appending nothing, when the payload is not JSON data. */
  record(kind: 'file' | 'event' | 'checkpoint' | 'gap', payload: unknown, seq: number, prev: string): string {
    return this.append(kind, payload, false, seq, prev);
  }

  /** The lines, newline-terminated: a view of the batch's buffer, valid until `clear()` or the next append. */
  bytes(): Buffer {
    return this.writer.bytes.subarray(HEADROOM, this.writer.length);
  }

  /** Empties the batch, keeping its buffer. */
  clear(): void {
    this.writer.length = HEADROOM;
    this.last = undefined;
    this.records = 0;
  }

  private append(
    kind: 'file' | 'event' | 'checkpoint' | 'gap',
    payload: unknown,
    omitUndefined: boolean,
    seq: number,
    prev: string,
  ): string {
    // Both come from the writer's own chain state; a cheap check keeps a bug from writing garbage.
    if (!Number.isSafeInteger(seq) || seq < 0 || prev.length !== 64)
      throw new TypeError('LineBatch: malformed seq or prev');
    const writer = this.writer;
    const start = writer.length;
    // `{"<kind>":<payload>,"prev":"<hex>","seq":<n>,"v":1}`: every kind sorts before `prev`.
    try {
      writer.ascii(kind === 'event' ? '{"event":' : `{"${kind}":`);
      if (omitUndefined) writer.objectOmittingUndefined(payload as Readonly<Record<string, unknown>>);
      else writer.value(payload);
      writer.ascii(',"prev":"');
      writer.ascii(prev);
      writer.ascii('","seq":');
      writer.number(seq);
      writer.ascii(',"v":1}');
    } catch (error) {
      writer.length = start;
      throw error;
    }
    // A huge record may have moved the buffer: read it only now.
    const out = writer.bytes;
    const end = writer.length;
    const domainAt = start - HEADROOM;
    for (let i = 0; i < HEADROOM; i++) out[domainAt + i] = RECORD_DOMAIN_BYTES[i]!;
    const digest = hash('sha256', out.subarray(domainAt, end), 'hex');
    // Put back what the domain covered: the end of the last line (its hash, then `"}` and a newline).
    const last = this.last;
    if (last !== undefined) {
      let at = domainAt;
      for (let i = 64 - (HEADROOM - 3); i < 64; i++) out[at++] = last.charCodeAt(i);
      out[at++] = 0x22;
      out[at++] = 0x7d;
      out[at] = 0x0a;
    }
    // The record's closing brace becomes `,"hash":"<hex>"}` and the newline.
    writer.length = end - 1;
    writer.ascii(HASH_OPEN_TEXT);
    writer.ascii(digest);
    writer.ascii('"}\n');
    this.last = digest;
    this.records += 1;
    return digest;
  }
}
