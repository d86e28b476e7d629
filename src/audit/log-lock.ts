import { linkSync, readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ConfigurationError } from '../errors.ts';

// One writer per JSONL audit log. Two writers (two processes, or two sinks of one process, on one
// path) would each extend the chain from the head they saw, so the file holds two interleaved
// chains that never verify, and their rotations rename each other's files away (records lost).
// `<path>.lock` names the writer: its process id and host. A lock whose process is gone (a crash,
// a container restarted with the same pid) is taken over; one whose process lives, or that was
// written on another host (whose processes cannot be seen from here), is refused.

/** Locks held by this process, by resolved lock path. */
const held = new Set<string>();

/**
 * Takes the lock of the log at `path`; returns its release. Throws a ConfigurationError when
 * another writer holds it. A path that is not a regular file (a device such as /dev/full, a FIFO)
 * is not locked: nothing is rotated or resumed there.
 */
export function lockLog(path: string): () => void {
  if (!regularOrAbsent(path)) return () => {};
  const lockPath = `${path}.lock`;
  const key = resolve(lockPath);
  if (held.has(key))
    throw new ConfigurationError(
      `the audit log ${path} is already open in this process: one jsonlAudit sink per file (share the sink, or give each its own path)`,
    );
  const mine = `${JSON.stringify({ pid: process.pid, host: hostname() })}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    // Written whole beside it, then linked into place (which fails if a lock is there): a lock
    // is never seen empty, so a starting writer never takes one being written for stale.
    if (take(lockPath, mine)) {
      held.add(key);
      return () => release(key, lockPath, mine);
    }
    const holder = readHolder(lockPath);
    if (holder !== undefined && alive(holder)) {
      const where = holder.host === hostname() ? '' : ` on host ${holder.host}`;
      throw new ConfigurationError(
        `the audit log ${path} is written by process ${holder.pid}${where}: a second writer would break its chain (if that process is gone, remove ${lockPath})`,
      );
    }
    // The writer is gone: its lock is taken over. (Two writers starting at the same moment over
    // one stale lock may both take it: that needs a crash first, and then a double start.)
    try {
      unlinkSync(lockPath);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') throw error;
    }
  }
  throw new ConfigurationError(`the lock of the audit log ${path} (${lockPath}) could not be taken`);
}

/** Creates the lock holding `content`; false when there is one. */
function take(lockPath: string, content: string): boolean {
  const temporary = `${lockPath}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(temporary, content, { mode: 0o600 });
  try {
    linkSync(temporary, lockPath);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

function regularOrAbsent(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return true;
  }
}

function release(key: string, lockPath: string, mine: string): void {
  if (!held.delete(key)) return;
  try {
    // Only our own lock: never one a later writer took over.
    if (readFileSync(lockPath, 'utf8') === mine) unlinkSync(lockPath);
  } catch {
    // Gone already; a stale lock is taken over by the next writer anyway.
  }
}

interface Holder {
  readonly pid: number;
  readonly host: string;
}

/** The writer a lock names; undefined when it names none (empty, or not ours), which is taken over. */
function readHolder(lockPath: string): Holder | undefined {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const parsed = JSON.parse(text) as { pid?: unknown; host?: unknown };
    if (Number.isSafeInteger(parsed.pid) && (parsed.pid as number) > 0 && typeof parsed.host === 'string')
      return { pid: parsed.pid as number, host: parsed.host };
  } catch {
    // Not a lock this code wrote.
  }
  return undefined;
}

function alive(holder: Holder): boolean {
  // Another host's processes cannot be seen: refused, with how to lift it.
  if (holder.host !== hostname()) return true;
  // Our own pid but not held here: a lock left by an earlier life of this pid (a container restart).
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists, under another user.
    return (error as { code?: string }).code === 'EPERM';
  }
}
