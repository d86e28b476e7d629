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

/**
 * Reads a file as UTF-8, at most `maxBytes` of it: a longer one (or a device that never ends)
 * rejects with FileTooLarge. File-system errors (ENOENT, EISDIR…) reject as they are.
 */
export async function readTextFile(path: string, maxBytes: number): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 20, maxBytes + 1 - total));
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > maxBytes) throw new FileTooLarge(path, maxBytes);
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks, total).toString('utf8');
  } finally {
    await handle.close();
  }
}
