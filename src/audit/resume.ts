import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { ConfigurationError } from '../errors.ts';
import { parseLine, recordBody } from './chain.ts';

// Reading the end of an existing log so a new writer can resume its chain.

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
