import { createHash, randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { ConfigurationError } from '../errors.ts';
import { GENESIS_PREV, parseLine, recordBody } from './chain.ts';
import { rotatedFiles } from './files.ts';

// Reading the end of an existing log so a new writer can resume its chain.

/** Where a writer of the log at `path` starts: its file, open for appending, and the chain's end. */
export interface OpenedChain {
  readonly fd: number;
  readonly fileIndex: number;
  readonly fileBytes: number;
  readonly chain: string;
  /** Sequence number and hash of the chain's last record (-1 and the genesis hash for a new chain). */
  readonly seq: number;
  readonly head: string;
  /**
   * The record the writer appends first: a `gap` for a torn last line (closed here with a
   * newline), or the `file` header of a new file. None when the active file is resumed intact.
   */
  readonly first: { readonly kind: 'gap' | 'file'; readonly payload: Record<string, unknown> } | undefined;
}

/**
 * Opens the log at `path` for appending: resumes the chain of the active file (repairing a torn
 * last line) or of the last rotated file, or starts a new chain. Throws a ConfigurationError when
 * the file cannot be opened or ends in a record whose hash does not verify.
 */
export function openChain(path: string): OpenedChain {
  try {
    mkdirSync(dirname(path), { recursive: true });
    const rotated = rotatedFiles(path);
    let activeSize = existsSync(path) ? sizeOf(path) : 0;
    // A crash during the file's first write left only a piece of its header: no record to resume
    // from. The file starts again, its header noting what was cut off (never acknowledged: a
    // record is only once its whole write is done).
    const torn = activeSize > 0 ? tornFirstWrite(path, activeSize) : undefined;
    if (torn !== undefined) {
      truncateSync(path, 0);
      activeSize = 0;
    }
    const note = torn === undefined ? {} : { torn };
    if (activeSize > 0) {
      const first = readFirstRecord(path);
      const tail = readTail(path, activeSize);
      const fd = openSync(path, 'a');
      const opened = { fd, fileIndex: first.index, chain: first.chain, seq: tail.seq, head: tail.hash };
      if (tail.torn === undefined) return { ...opened, fileBytes: activeSize, first: undefined };
      // Close the torn line (unless an earlier start did and died before its gap record), then
      // record what it was; verifiers accept it as a repaired gap.
      if (tail.closed !== true) writeAll(fd, Buffer.from('\n'));
      const payload = { reason: 'torn', bytes: tail.torn.length, sha256: sha256(tail.torn), ts: Date.now() };
      return {
        ...opened,
        fileBytes: activeSize + (tail.closed === true ? 0 : 1),
        first: { kind: 'gap', payload },
      };
    }
    if (rotated.length > 0) {
      const last = rotated[rotated.length - 1]!;
      const tail = readTail(last.path, sizeOf(last.path));
      const { chain } = readFirstRecord(last.path);
      const fileIndex = last.index + 1;
      return {
        fd: openSync(path, 'a'),
        fileIndex,
        fileBytes: 0,
        chain,
        seq: tail.seq,
        head: tail.hash,
        first: { kind: 'file', payload: { chain, index: fileIndex, ts: Date.now(), ...note } },
      };
    }
    const chain = randomUUID();
    return {
      fd: openSync(path, 'a'),
      fileIndex: 0,
      fileBytes: 0,
      chain,
      seq: -1,
      head: GENESIS_PREV,
      first: { kind: 'file', payload: { chain, index: 0, ts: Date.now(), ...note } },
    };
  } catch (error) {
    if (error instanceof ConfigurationError) throw error;
    throw new ConfigurationError(`jsonlAudit cannot open ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

export function writeAll(fd: number, buffer: Buffer): void {
  let offset = 0;
  while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
}

export function sizeOf(path: string): number {
  const fd = openSync(path, 'r');
  try {
    return fstatSync(fd).size;
  } finally {
    closeSync(fd);
  }
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** How every file header line starts (canonical JSON: `file` first, `chain` its first key). */
const HEADER_START = Buffer.from('{"file":{"chain":"', 'latin1');

/** Longest first write that is only a piece of a file header (a header line is ~200 bytes). */
const MAX_TORN_HEADER = 4096;

/**
 * What a file holds when a crash cut its first write short: a few bytes, no newline, not a whole
 * record. `undefined` for anything else (a damaged file is refused by the readers below).
 */
export function tornFirstWrite(path: string, size: number): { bytes: number; sha256: string } | undefined {
  if (size > MAX_TORN_HEADER) return undefined;
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(size);
    const read = readSync(fd, buffer, 0, size, 0);
    // The piece, closed with a newline if an earlier start did so and died before writing more.
    const closed = buffer[read - 1] === 10;
    const content = buffer.subarray(0, closed ? read - 1 : read);
    if (read !== size || content.length === 0 || content.includes(10)) return undefined;
    // Only a piece of a toolgate file header: a file of anyone else is never emptied.
    const prefix = Math.min(content.length, HEADER_START.length);
    if (!content.subarray(0, prefix).equals(HEADER_START.subarray(0, prefix))) return undefined;
    if (parseLine(content)?.hashOk === true) return undefined;
    return { bytes: content.length, sha256: sha256(content) };
  } finally {
    closeSync(fd);
  }
}

/** Reads the file header (first record): the chain id and the file index. */
export function readFirstRecord(path: string): { chain: string; index: number } {
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(65_536);
    const read = readSync(fd, buffer, 0, buffer.length, 0);
    const end = buffer.subarray(0, read).indexOf(10);
    const line = buffer.subarray(0, end < 0 ? read : end);
    const parsed = parseLine(line);
    if (parsed === undefined || !parsed.hashOk || parsed.kind !== 'file')
      throw new ConfigurationError(`${path} does not start with a toolgate audit file header`);
    const file = recordBody(line).file as { chain: string; index: number };
    return { chain: file.chain, index: file.index };
  } finally {
    closeSync(fd);
  }
}

/**
 * Finds the last complete record and any torn bytes after it. `closed`: the torn bytes already
 * end in a newline (a line that is no record at all, last in the file: what an earlier start left
 * when it closed a torn line and died before writing its gap record).
 */
export function readTail(
  path: string,
  size: number,
): { seq: number; hash: string; torn?: Buffer; closed?: boolean } {
  const fd = openSync(path, 'r');
  try {
    let chunk = Math.min(size, 1 << 20);
    for (;;) {
      const start = size - chunk;
      const buffer = Buffer.alloc(chunk);
      readSync(fd, buffer, 0, chunk, start);
      let end = buffer.length;
      let torn: Buffer | undefined;
      if (buffer[end - 1] !== 10) {
        const lastNewline = buffer.lastIndexOf(10);
        if (lastNewline >= 0 || start === 0) {
          const fragment = buffer.subarray(lastNewline + 1);
          const parsed = parseLine(fragment);
          if (parsed?.hashOk) {
            // A whole record that only lacks its newline: keep it.
            const fixed = openSync(path, 'a');
            try {
              writeAll(fixed, Buffer.from('\n'));
            } finally {
              closeSync(fixed);
            }
            return { seq: parsed.seq, hash: parsed.hash };
          }
          torn = Buffer.from(fragment);
          end = lastNewline + 1;
        }
      }
      if (end > 0 || start === 0) {
        const body = buffer.subarray(0, Math.max(0, end - 1));
        const previous = body.lastIndexOf(10);
        if (previous >= 0 || start === 0) {
          const line = body.subarray(previous + 1);
          const parsed = parseLine(line);
          // (A torn line is the start of a record: `{`. Anything else appended is refused.)
          if (parsed === undefined && torn === undefined && line[0] === 0x7b && previous >= 0) {
            // A closed line that is no record, last in the file: the record before it is the head.
            const before = body.subarray(0, previous);
            const start2 = before.lastIndexOf(10);
            if (start2 >= 0 || start === 0) {
              const head = parseLine(before.subarray(start2 + 1));
              if (head === undefined || !head.hashOk)
                throw new ConfigurationError(
                  `${path} ends in a record that does not verify; run \`toolgate audit verify\` before writing to it`,
                );
              return { seq: head.seq, hash: head.hash, torn: Buffer.from(line), closed: true };
            }
            // The record before it starts before this chunk: read more.
          } else {
            if (parsed === undefined || !parsed.hashOk)
              throw new ConfigurationError(
                `${path} ends in a record that does not verify; run \`toolgate audit verify\` before writing to it`,
              );
            return torn === undefined
              ? { seq: parsed.seq, hash: parsed.hash }
              : { seq: parsed.seq, hash: parsed.hash, torn };
          }
        }
      }
      if (chunk >= size) throw new ConfigurationError(`${path} has no complete audit record`);
      chunk = Math.min(size, chunk * 4);
    }
  } finally {
    closeSync(fd);
  }
}
