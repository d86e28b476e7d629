import type { FileHandle } from 'node:fs/promises';

/**
 * Longest line read. Past it the file is refused: no record is that long, and a file that is no
 * log (a device such as /dev/zero that never ends, without a newline) would otherwise double the
 * buffer until Node aborts the process.
 */
export const MAX_LINE_BYTES: number = 256 * 1024 * 1024;

/**
 * Reads a file in chunks and calls `onLine` with each line, without its newline, as a view into
 * the chunk (valid only during the call); a last line without a newline comes with `terminated`
 * false. Stops at, and returns, the first answer that is not `undefined`.
 *
 * The partial line at the end of a chunk moves to the front of the buffer and the next read fills
 * in after it, so nothing but that partial line is ever copied; the buffer (1 MiB) grows only for
 * a line longer than itself. Memory stays flat whatever the size of the file. Throws a RangeError
 * for a line longer than `MAX_LINE_BYTES`.
 */
export async function forEachLine<T>(
  handle: FileHandle,
  onLine: (line: Buffer, terminated: boolean) => T | undefined,
): Promise<T | undefined> {
  let chunk = Buffer.allocUnsafe(1 << 20);
  let held = 0;
  for (;;) {
    if (held === chunk.length) {
      if (held >= MAX_LINE_BYTES)
        throw new RangeError(
          `a line longer than ${MAX_LINE_BYTES / 1024 / 1024} MiB: this is not a toolgate audit log`,
        );
      const bigger = Buffer.allocUnsafe(Math.min(chunk.length * 2, MAX_LINE_BYTES));
      chunk.copy(bigger, 0, 0, held);
      chunk = bigger;
    }
    const { bytesRead } = await handle.read(chunk, held, chunk.length - held, null);
    if (bytesRead === 0) break;
    const end = held + bytesRead;
    let start = 0;
    for (;;) {
      const newline = chunk.indexOf(10, start);
      if (newline < 0 || newline >= end) break;
      const answer = onLine(chunk.subarray(start, newline), true);
      if (answer !== undefined) return answer;
      start = newline + 1;
    }
    held = end - start;
    if (held > 0 && start > 0) chunk.copyWithin(0, start, end);
  }
  return held > 0 ? onLine(chunk.subarray(0, held), false) : undefined;
}
