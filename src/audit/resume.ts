import { createHash, randomUUID } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
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
    const activeSize = existsSync(path) ? sizeOf(path) : 0;
    if (activeSize > 0) {
      const first = readFirstRecord(path);
      const tail = readTail(path, activeSize);
      const fd = openSync(path, 'a');
      const opened = { fd, fileIndex: first.index, chain: first.chain, seq: tail.seq, head: tail.hash };
      if (tail.torn === undefined) return { ...opened, fileBytes: activeSize, first: undefined };
      // Close the torn line, then record what it was; verifiers accept it as a repaired gap.
      writeAll(fd, Buffer.from('\n'));
      const payload = { reason: 'torn', bytes: tail.torn.length, sha256: sha256(tail.torn), ts: Date.now() };
      return { ...opened, fileBytes: activeSize + 1, first: { kind: 'gap', payload } };
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
        first: { kind: 'file', payload: { chain, index: fileIndex, ts: Date.now() } },
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
      first: { kind: 'file', payload: { chain, index: 0, ts: Date.now() } },
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

/** Finds the last complete record and any torn bytes after it. */
export function readTail(path: string, size: number): { seq: number; hash: string; torn?: Buffer } {
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
          if (parsed === undefined || !parsed.hashOk)
            throw new ConfigurationError(
              `${path} ends in a record that does not verify; run \`toolgate audit verify\` before writing to it`,
            );
          return torn === undefined
            ? { seq: parsed.seq, hash: parsed.hash }
            : { seq: parsed.seq, hash: parsed.hash, torn };
        }
      }
      if (chunk >= size) throw new ConfigurationError(`${path} has no complete audit record`);
      chunk = Math.min(size, chunk * 4);
    }
  } finally {
    closeSync(fd);
  }
}
