import { createHash, randomBytes } from 'node:crypto';
import { type FSWatcher, mkdirSync, statSync, watch } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { ConfigurationError } from '../errors.ts';
import type { ClaimOptions, PutOptions, StoredRecord, Unsubscribe } from '../store/types.ts';
import type { JsonValue } from '../types.ts';
import type { ApprovalStore } from './queue.ts';

/** Options of `approvalDirectory`. */
export interface ApprovalDirectoryOptions {
  /**
   * The directory shared by the waiting guard and the people answering, on one machine. Created
   * with mode 0700 when missing; refused when it belongs to another user or others may read it.
   */
  dir: string;
  /** Create the directory when it is missing; `false` throws a ConfigurationError instead. @default true */
  create?: boolean;
}

/** A store for `queueApprover` / `approvalQueue` in a local directory (see `approvalDirectory`). */
export interface ApprovalDirectory extends Omit<ApprovalStore, 'claim' | 'subscribe' | 'notify'> {
  claim: NonNullable<ApprovalStore['claim']>;
  subscribe: NonNullable<ApprovalStore['subscribe']>;
  notify: NonNullable<ApprovalStore['notify']>;
  /** The directory, resolved. */
  readonly dir: string;
  /** Stops watching the directory. */
  close(): Promise<void>;
}

/** Records and claims that expired longer ago than this are deleted when a collection is listed. */
const SWEEP_AFTER_MS = 24 * 60 * 60 * 1000;
/** Claims and temporary files are swept at most this often, per process. */
const SWEEP_EVERY_MS = 60_000;
const MAX_NAME = 200;

/**
 * A store for the approval queue that needs no server: pending requests, answers and single-use
 * claims are files in one directory (mode 0700, files 0600) on one machine. Writes go to a temporary
 * file and are renamed into place, so readers never see half a record; a claim is an exclusive
 * create (`O_EXCL`), so of many processes exactly one wins. Waiters wake through `fs.watch` on the
 * directory, with the queue's polling as the fallback. Requests and answers stay signed
 * (`secret`), as over Redis, so a file written by anyone else is ignored.
 *
 * Records and claims stand until they expire; they are removed a day after that, when a
 * collection is listed. Use a store such as Redis to share approvals between machines.
 *
 * @example
 * const approvals = approvalDirectory({ dir: `${os.homedir()}/.toolgate/approvals` });
 * const tg = createGuard({ policy, approver: queueApprover({ store: approvals, secret }) });
 * // answer from a terminal: toolgate approvals list --dir ~/.toolgate/approvals
 */
export function approvalDirectory(options: ApprovalDirectoryOptions): ApprovalDirectory {
  if (typeof options?.dir !== 'string' || options.dir === '')
    throw new ConfigurationError('approvalDirectory() needs a dir');
  const dir = resolve(options.dir);
  ensurePrivateDirectory(dir, options.create !== false);
  const paths = {
    records: (collection: string) => join(dir, 'records', fileName(collection)),
    record: (collection: string, id: string) => join(dir, 'records', fileName(collection), fileName(id)),
    claim: (key: string) => join(dir, 'claims', fileName(key)),
    notify: join(dir, 'notify'),
    tmp: join(dir, 'tmp'),
  };
  const listeners = new Map<string, Set<(message: string) => void>>();
  let watcher: FSWatcher | undefined;
  let watching = false;
  let sweptAt = Number.NEGATIVE_INFINITY;

  /** Writes `text` to a new private file in tmp/, then renames it to `target` (atomic replace). */
  const writeAtomic = async (target: string, text: string) => {
    await mkdir(paths.tmp, { recursive: true, mode: 0o700 });
    const temporary = join(paths.tmp, `${process.pid}.${randomBytes(8).toString('hex')}`);
    const handle = await open(temporary, 'wx', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
    } finally {
      await handle.close();
    }
    try {
      await mkdir(join(target, '..'), { recursive: true, mode: 0o700 });
      await rename(temporary, target);
    } catch (error) {
      await unlink(temporary).catch(() => undefined);
      throw error;
    }
  };

  const watchNotifications = async () => {
    if (watching) return;
    watching = true;
    await mkdir(paths.notify, { recursive: true, mode: 0o700 });
    try {
      watcher = watch(paths.notify, { persistent: false }, (_event, name) => {
        const channel = typeof name === 'string' ? listeners.get(name) : undefined;
        for (const listener of channel ?? []) {
          try {
            listener('notified');
          } catch {
            // A listener's failure is its own; the others still wake.
          }
        }
      });
      watcher.on('error', () => {
        // Without the watcher the queue still polls.
        watcher?.close();
        watcher = undefined;
      });
    } catch {
      // fs.watch is unavailable here (no inotify slots, a network file system): polling remains.
      watcher = undefined;
    }
  };

  return {
    name: 'directory',
    dir,
    async put(collection, id, value: JsonValue, putOptions: PutOptions) {
      const record: { id: string; value: JsonValue; expiresAt?: number } = { id, value };
      if (putOptions.ttlMs !== undefined) record.expiresAt = putOptions.now + putOptions.ttlMs;
      await writeAtomic(paths.record(collection, id), JSON.stringify(record));
    },
    async get(collection, id, now) {
      return readRecord(paths.record(collection, id), id, now);
    },
    async list(collection, now) {
      let names: string[];
      try {
        names = await readdir(paths.records(collection));
      } catch (error) {
        if (isMissing(error)) return [];
        throw error;
      }
      const records: StoredRecord[] = [];
      for (const name of names) {
        const file = join(paths.records(collection), name);
        const record = await readRecord(file, undefined, now);
        if (record !== undefined) records.push(record);
        else await sweep(file, now);
      }
      if (now - sweptAt > SWEEP_EVERY_MS) {
        sweptAt = now;
        await sweepDirectory(paths.tmp, now);
        for (const name of await readdir(join(dir, 'claims')).catch(() => [] as string[]))
          await sweep(join(dir, 'claims', name), now);
      }
      return records;
    },
    async delete(collection, id) {
      return removeFile(paths.record(collection, id));
    },
    async claim(key, claimOptions: ClaimOptions) {
      const file = paths.claim(key);
      await mkdir(join(dir, 'claims'), { recursive: true, mode: 0o700 });
      let handle: Awaited<ReturnType<typeof open>>;
      try {
        handle = await open(file, 'wx', 0o600);
      } catch (error) {
        if ((error as { code?: unknown }).code === 'EEXIST') return false;
        throw error;
      }
      try {
        await handle.writeFile(JSON.stringify({ key, expiresAt: claimOptions.now + claimOptions.ttlMs }));
      } finally {
        await handle.close();
      }
      return true;
    },
    async subscribe(channel, listener): Promise<Unsubscribe> {
      const name = fileName(channel);
      let set = listeners.get(name);
      if (set === undefined) {
        set = new Set();
        listeners.set(name, set);
      }
      set.add(listener);
      await watchNotifications();
      return () => {
        set.delete(listener);
        if (set.size === 0) listeners.delete(name);
      };
    },
    async notify(channel) {
      // A file appearing (and going) under notify/ wakes the watchers; nothing is left behind.
      const file = join(paths.notify, fileName(channel));
      await writeAtomic(file, '');
      await removeFile(file);
    },
    async close() {
      watcher?.close();
      watcher = undefined;
      watching = false;
      listeners.clear();
    },
  };
}

/** Creates `dir` (0700) or checks that it is a directory only its owner, this user, can reach. */
function ensurePrivateDirectory(dir: string, create: boolean): void {
  if (create) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new ConfigurationError(`approvalDirectory: cannot create ${dir}: ${(error as Error).message}`);
    }
  }
  let info: ReturnType<typeof statSync>;
  try {
    info = statSync(dir);
  } catch {
    throw new ConfigurationError(`approvalDirectory: ${dir} does not exist or cannot be read`);
  }
  if (!info.isDirectory()) throw new ConfigurationError(`approvalDirectory: ${dir} is not a directory`);
  if (process.platform === 'win32') return;
  const uid = process.getuid?.();
  if (uid !== undefined && info.uid !== uid)
    throw new ConfigurationError(`approvalDirectory: ${dir} belongs to another user (uid ${info.uid})`);
  if ((info.mode & 0o077) !== 0)
    throw new ConfigurationError(
      `approvalDirectory: ${dir} is open to other users (mode ${(info.mode & 0o777).toString(8)}); run chmod 700 ${dir}`,
    );
}

/** A file name for any string: its base64url, or a hash when that would be too long. */
function fileName(text: string): string {
  const encoded = Buffer.from(text, 'utf8').toString('base64url');
  return encoded.length <= MAX_NAME
    ? `b${encoded}`
    : `h${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

async function readRecord(
  file: string,
  id: string | undefined,
  now: number,
): Promise<StoredRecord | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  let parsed: { id?: unknown; value?: unknown; expiresAt?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null || typeof parsed.id !== 'string' || !('value' in parsed))
    return undefined;
  if (id !== undefined && parsed.id !== id) return undefined;
  const expiresAt = parsed.expiresAt;
  if (expiresAt !== undefined && !(typeof expiresAt === 'number' && now < expiresAt)) return undefined;
  const record: { id: string; value: JsonValue; uses: number; expiresAt?: number } = {
    id: parsed.id,
    value: parsed.value as JsonValue,
    uses: 0,
  };
  if (expiresAt !== undefined) record.expiresAt = expiresAt;
  return record;
}

/** Deletes a record file that expired more than a day ago (or cannot be read as a record). */
async function sweep(file: string, now: number): Promise<void> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { expiresAt?: unknown };
    if (typeof parsed?.expiresAt === 'number' && now - parsed.expiresAt < SWEEP_AFTER_MS) return;
  } catch {
    // Unreadable: only old leftovers go (a record being written is renamed into place whole).
    const info = await stat(file).catch(() => undefined);
    if (info === undefined || Date.now() - info.mtimeMs < SWEEP_AFTER_MS) return;
  }
  await removeFile(file);
}

/** Deletes files in `dir` untouched for a day (temporary files of a process that died). */
async function sweepDirectory(dir: string, now: number): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const file = join(dir, name);
    const info = await stat(file).catch(() => undefined);
    if (info !== undefined && now - info.mtimeMs > SWEEP_AFTER_MS) await removeFile(file);
  }
}

async function removeFile(file: string): Promise<boolean> {
  try {
    await unlink(file);
    return true;
  } catch (error) {
    if (isMissing(error)) return false;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ENOENT';
}
