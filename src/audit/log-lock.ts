import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { ConfigurationError } from '../errors.ts';

// One writer per JSONL audit log. Two writers (two processes, or two sinks of one process, on one
// path) would each extend the chain from the head they saw, so the file holds two interleaved
// chains that never verify, and their rotations rename each other's files away (records lost).
// `<path>.lock` names the writer: its process id, host and a random nonce (no two locks are alike).
// A lock whose process is gone (a crash, a container restarted with the same pid) is taken over;
// one whose process lives, or that was written on another host (whose processes cannot be seen
// from here), is refused.
//
// Every file here is created whole beside its name and linked into place, which fails when the
// name is taken: exactly one of the processes creating a name at once gets it, and none ever sees
// a file half written. Removing a stale lock is the dangerous step (a process that found it stale
// a moment ago must not remove the fresh lock that replaced it), so it happens only under a claim
// on that lock's content, `<path>.lock.takeover-<digest of the content>` (created the same way),
// and only while the lock still holds that content. A process that dies holding a claim leaves a
// stale claim: it is removed the same way, under a claim on its own content.
// Assumed: the writers of a log share this host's process ids (a lock or claim from another host
// is never taken over), a process found gone stays gone, and the file system's link() is atomic
// and exclusive (local file systems are; some network ones are not).

/** Locks held by this process, by resolved lock path. */
const held = new Set<string>();

/** How long a start waits for another process that is taking over the same stale lock. */
const TAKEOVER_WAIT_MS = 5_000;
/** Tries without waiting, while something changes each time (before waiting, up to the time above). */
const QUICK_ATTEMPTS = 20;

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
  const mine = stamp();
  const until = Date.now() + TAKEOVER_WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    const fd = create(lockPath, mine);
    if (fd !== undefined) {
      held.add(key);
      return () => release(key, lockPath, mine, fd);
    }
    const found = read(lockPath);
    let busy: Holder | undefined;
    if (found !== undefined) {
      const holder = holderOf(found);
      if (holder !== undefined && alive(holder, lockPath)) {
        if (holder.pid === process.pid && holder.host === hostname())
          throw new ConfigurationError(
            `the audit log ${path} is open in another thread of this process: one jsonlAudit sink per file (share the sink, or give each its own path)`,
          );
        const where = holder.host === hostname() ? '' : ` on host ${holder.host}`;
        throw new ConfigurationError(
          `the audit log ${path} is written by process ${holder.pid}${where}: a second writer would break its chain (if that process is gone, remove ${lockPath})`,
        );
      }
      // The writer is gone: its lock is removed, then taken above (by this process or another).
      busy = removeStale(lockPath, lockPath, found);
    }
    // Something changed (a stale file removed, the lock released): look again at once. Another
    // process is taking the stale lock over: wait for it (it holds its claim for a moment).
    if (busy === undefined && attempt < QUICK_ATTEMPTS) continue;
    if (Date.now() >= until)
      throw new ConfigurationError(
        busy === undefined
          ? `the lock of the audit log ${path} (${lockPath}) could not be taken`
          : `the lock of the audit log ${path} (${lockPath}) could not be taken: process ${busy.pid} has been taking it over for ${TAKEOVER_WAIT_MS} ms (if that process is gone, remove ${lockPath}.takeover-*)`,
      );
    pause(Math.min(2 ** Math.min(attempt, 6), 50));
  }
}

/**
 * Removes `target` if it still holds `content` (a stale lock or claim), under a claim on that
 * content. Undefined when done or when it changed meanwhile (look again); the live process that
 * holds the claim when another one is doing it (wait, then look again).
 */
function removeStale(lockPath: string, target: string, content: string): Holder | undefined {
  const claimPath = `${lockPath}.takeover-${createHash('sha256').update(content).digest('hex').slice(0, 32)}`;
  const claim = stamp();
  const fd = create(claimPath, claim);
  if (fd !== undefined) {
    try {
      // Only the content found stale: another process may have taken the lock over already.
      if (read(target) === content) remove(target);
    } finally {
      remove(claimPath);
      closeSync(fd);
    }
    return undefined;
  }
  const other = read(claimPath);
  // Done just now: look again.
  if (other === undefined) return undefined;
  const holder = holderOf(other);
  if (holder !== undefined && alive(holder, claimPath)) return holder;
  // The process taking it over died in the middle: its claim is stale, and removed the same way.
  return removeStale(lockPath, claimPath, other);
}

/** The content of a lock or claim of this process: unique, so a replaced file never looks the same. */
function stamp(): string {
  return `${JSON.stringify({ pid: process.pid, host: hostname(), nonce: randomBytes(12).toString('hex') })}\n`;
}

/**
 * Creates `path` holding `content`; answers a descriptor open on it, kept open while it is held
 * (it tells the other threads of this process that the file is held: `openHere`), or undefined
 * when `path` exists. The descriptor is opened before the link, so the file is never held unseen.
 */
function create(path: string, content: string): number | undefined {
  const temporary = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}`;
  writeFileSync(temporary, content, { mode: 0o600 });
  const fd = openSync(temporary, 'r');
  let linked = false;
  try {
    linkSync(temporary, path);
    linked = true;
    return fd;
  } catch (error) {
    if ((error as { code?: string }).code === 'EEXIST') return undefined;
    throw error;
  } finally {
    if (!linked) closeSync(fd);
    unlinkSync(temporary);
  }
}

/** The content of a lock or claim; undefined when there is none. */
function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as { code?: string }).code === 'ENOENT') return undefined;
    throw error;
  }
}

function remove(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as { code?: string }).code !== 'ENOENT') throw error;
  }
}

function regularOrAbsent(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return true;
  }
}

function release(key: string, lockPath: string, mine: string, fd: number): void {
  if (!held.delete(key)) return;
  try {
    // Only our own lock: never one a later writer took over.
    if (read(lockPath) === mine) remove(lockPath);
  } catch {
    // Gone already; a stale lock is taken over by the next writer anyway.
  } finally {
    try {
      closeSync(fd);
    } catch {
      // Closed already.
    }
  }
}

function pause(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

interface Holder {
  readonly pid: number;
  readonly host: string;
}

/** The writer a lock names; undefined when it names none (empty, or not ours), which is taken over. */
function holderOf(text: string): Holder | undefined {
  try {
    const parsed = JSON.parse(text) as { pid?: unknown; host?: unknown };
    if (Number.isSafeInteger(parsed.pid) && (parsed.pid as number) > 0 && typeof parsed.host === 'string')
      return { pid: parsed.pid as number, host: parsed.host };
  } catch {
    // Not a lock this code wrote.
  }
  return undefined;
}

/** Whether the writer a lock or claim at `path` names is alive. */
function alive(holder: Holder, path: string): boolean {
  // Another host's processes cannot be seen: refused, with how to lift it.
  if (holder.host !== hostname()) return true;
  // Our own pid: held by another thread of this process if one has the file open, else left by
  // an earlier life of this pid (a container restart).
  if (holder.pid === process.pid) return openHere(path);
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists, under another user.
    return (error as { code?: string }).code === 'EPERM';
  }
}

/**
 * Whether this process has the file at `path` open (a descriptor on the same inode), read from
 * `/proc/self/fd` where there is one (Linux). Elsewhere false: a lock naming this pid is taken for
 * an earlier life of it, so there the worker threads of one process must not open one log.
 */
function openHere(path: string): boolean {
  let target: { dev: number; ino: number };
  let fds: string[];
  try {
    target = statSync(path);
    fds = readdirSync('/proc/self/fd');
  } catch {
    return false;
  }
  for (const name of fds) {
    try {
      const open = fstatSync(Number(name));
      if (open.ino === target.ino && open.dev === target.dev) return true;
    } catch {
      // Closed since the listing.
    }
  }
  return false;
}
