import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

// Reading an input file with a bound: a policy, anchor, key or JSON file given by path may be a
// device that never ends (/dev/zero) or far larger than any such file, and `readFile` would read
// all of it before any size check (seconds and hundreds of MB, then a RangeError).

/** A file past the size its reader accepts; nothing past the bound was read. */
export class FileTooLarge extends Error {
  /** The bound in words (`10 MiB`). */
  readonly limit: string;
  constructor(
    readonly path: string,
    readonly maxBytes: number,
  ) {
    const limit = describeBytes(maxBytes);
    super(`${path} is larger than ${limit}`);
    this.name = 'FileTooLarge';
    this.limit = limit;
  }
}

function describeBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024} MiB` : `${bytes} bytes`;
}

/** The chunks of a bounded read so far: where to read next, and the text at the end. */
class BoundedRead {
  private readonly chunks: Buffer[] = [];
  private total = 0;
  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
  ) {}

  /** A buffer for the next read: one byte past the bound at most, to see that the file is longer. */
  buffer(): Buffer {
    return Buffer.allocUnsafe(Math.min(1 << 20, this.maxBytes + 1 - this.total));
  }

  /** Takes what a read put in `chunk`; false at the end of the file. Throws FileTooLarge past the bound. */
  add(chunk: Buffer, bytesRead: number): boolean {
    if (bytesRead === 0) return false;
    this.total += bytesRead;
    if (this.total > this.maxBytes) throw new FileTooLarge(this.path, this.maxBytes);
    this.chunks.push(chunk.subarray(0, bytesRead));
    return true;
  }

  text(): string {
    return Buffer.concat(this.chunks, this.total).toString('utf8');
  }
}

/**
 * Reads a file as UTF-8, at most `maxBytes` of it: a longer one (or a device that never ends)
 * rejects with FileTooLarge. File-system errors (ENOENT, EISDIR…) reject as they are.
 */
export async function readTextFile(path: string, maxBytes: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const read = new BoundedRead(path, maxBytes);
    for (;;) {
      const chunk = read.buffer();
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (!read.add(chunk, bytesRead)) return read.text();
    }
  } finally {
    await handle.close();
  }
}

/** `readTextFile` for a reader that must stay synchronous (a factory reading its file at construction). */
export function readTextFileSync(path: string, maxBytes: number): string {
  const fd = openSync(path, 'r');
  try {
    const read = new BoundedRead(path, maxBytes);
    for (;;) {
      const chunk = read.buffer();
      if (!read.add(chunk, readSync(fd, chunk, 0, chunk.length, null))) return read.text();
    }
  } finally {
    closeSync(fd);
  }
}

/** What a file-system error code says about the file, in words. */
export const FILE_PROBLEMS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
  ELOOP: 'too many symbolic links',
};

/**
 * Why a file could not be read, in words (`no such file`, `it is larger than 16 MiB`), for a
 * file-system error or FileTooLarge; undefined for any other error.
 */
export function fileProblem(error: unknown): string | undefined {
  if (error instanceof FileTooLarge) return `it is larger than ${error.limit}`;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && Object.hasOwn(FILE_PROBLEMS, code) ? FILE_PROBLEMS[code] : undefined;
}
