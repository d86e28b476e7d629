import type { BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { readTextFile } from '../_internal/read-text.ts';

// A policy file written in place, in parts with a pause between them, reads as a prefix of the
// new version in between, and a YAML prefix is often a valid policy with its last rules (deny rules,
// say) missing. No reader can tell a finished file from a paused writer, but it can refuse text the
// file did not hold still for a while: that covers every writer whose pauses are shorter.

/** Reads within this many rounds or gives up: a file that never holds still must not hang a reload. */
const MAX_ROUNDS = 20;

/** Options of `readSettledText`. */
export interface SettledReadOptions {
  /** Time between two reads that must agree, in milliseconds; 0 reads once. */
  readonly settleMs: number;
  /** Bound on the file's size (see `readTextFile`). */
  readonly maxBytes: number;
  /** A count of change events seen for the file (a watcher's): one between two reads means they do not agree. */
  readonly changes?: () => number;
}

/** The file changed between every two reads of a settled read. */
export class FileKeptChanging extends Error {
  /** How many times the file was read again. */
  readonly rounds: number = MAX_ROUNDS;
  constructor(
    readonly path: string,
    readonly settleMs: number,
  ) {
    super(`${path} kept changing: no two reads ${settleMs} ms apart agreed in ${MAX_ROUNDS} tries`);
    this.name = 'FileKeptChanging';
  }
}

interface Snapshot {
  readonly before: BigIntStats;
  readonly text: string;
  readonly after: BigIntStats;
  readonly changesBefore: number;
  /** `performance.now()` when the read ended. */
  readonly end: number;
}

/**
 * Reads a text file once it holds still: the text returned is what two reads, the second starting
 * at least `settleMs` after the first ended, both saw, with the file's device, inode, size, change
 * and modification times the same before the first and after the second, and no change event in
 * between. A writer that writes in place with pauses shorter than `settleMs` is never read
 * half-way; one that pauses longer can be (nothing in the file says it is unfinished). After
 * `MAX_ROUNDS` disagreeing reads it rejects with FileKeptChanging; read errors reject at once.
 */
export async function readSettledText(path: string, options: SettledReadOptions): Promise<string> {
  const { settleMs, maxBytes, changes = () => 0 } = options;
  if (settleMs <= 0) return readTextFile(path, maxBytes);
  let first = await snapshot(path, maxBytes, changes);
  for (let round = 0; round < MAX_ROUNDS; round++) {
    // Timers may fire a little early; the interval is measured, not assumed.
    for (let left = first.end + settleMs - performance.now(); left > 0; ) {
      await sleep(Math.ceil(left));
      left = first.end + settleMs - performance.now();
    }
    const second = await snapshot(path, maxBytes, changes);
    if (
      second.text === first.text &&
      sameFile(first.before, second.after) &&
      changes() === first.changesBefore
    )
      return second.text;
    first = second;
  }
  throw new FileKeptChanging(path, settleMs);
}

async function snapshot(path: string, maxBytes: number, changes: () => number): Promise<Snapshot> {
  const changesBefore = changes();
  const before = await stat(path, { bigint: true });
  const text = await readTextFile(path, maxBytes);
  const after = await stat(path, { bigint: true });
  return { before, text, after, changesBefore, end: performance.now() };
}

/** The same file, unchanged as far as its metadata says (access times are not compared: reads set them). */
function sameFile(a: BigIntStats, b: BigIntStats): boolean {
  return (
    a.dev === b.dev &&
    a.ino === b.ino &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs
  );
}
