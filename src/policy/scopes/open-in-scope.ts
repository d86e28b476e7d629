import { constants } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, readlink, realpath } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { GuardError } from '../../errors.ts';
import { childOf, componentsBelow, inside, pathProblem, plainPath } from './path-names.ts';

/** Options of `openInScope`. */
export interface OpenInScopeOptions {
  /**
   * How to open the file, as `fs.open` takes it (`'r'`, `'r+'`, `'w'`, `'wx'`, `'w+'`, `'a'`,
   * `'ax'`, `'a+'`…) or numeric flags. `O_NOFOLLOW` is always added.
   * @default 'r'
   */
  flags?: string | number;
  /** Permissions of a file it creates, before the umask. @default 0o666 */
  mode?: number;
  /** Create missing directories on the way, like `mkdir -p`, never through a link. @default false */
  parents?: boolean;
}

const {
  O_RDONLY,
  O_WRONLY,
  O_RDWR,
  O_CREAT,
  O_EXCL,
  O_TRUNC,
  O_APPEND,
  O_DIRECTORY,
  O_NOFOLLOW,
  O_NONBLOCK,
} = constants;

/** `fs.open`'s string flags. */
const FLAGS: Readonly<Record<string, number>> = {
  r: O_RDONLY,
  'r+': O_RDWR,
  w: O_TRUNC | O_CREAT | O_WRONLY,
  wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
  'w+': O_TRUNC | O_CREAT | O_RDWR,
  'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
  a: O_APPEND | O_CREAT | O_WRONLY,
  ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
  'a+': O_APPEND | O_CREAT | O_RDWR,
  'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
};

/** Where the kernel names an open descriptor (Linux): a directory fd here is a handle to walk from. */
const PROC_FD = '/proc/self/fd';

/**
 * Opens a file inside `root` the way `pathScope` judges it, and closes the race between the
 * check and the open: no symbolic link is followed below the root, whenever it appears.
 *
 * On Linux the walk is anchored on descriptors: the root is opened once, then each directory is
 * opened from the descriptor of the one before it (through `/proc/self/fd/N/name`, which is what
 * `openat` would do) with `O_DIRECTORY | O_NOFOLLOW`, and the file itself with `O_NOFOLLOW`, so a
 * component swapped for a symlink at any moment makes the open fail instead of following it. The
 * opened file must then be a regular file whose path (`/proc/self/fd/N`) is still inside the root.
 * Where `/proc/self/fd` is not available (macOS, the BSDs) the same walk runs by path, comparing
 * device and inode of every component before and after it is opened: a swap that is still in
 * place when checked is refused, but an attacker who can flip a directory and flip it back between
 * two system calls can win; run such tools on Linux. Windows is not supported (no `O_NOFOLLOW`).
 *
 * Not covered, on any platform: hard links (a hard link inside the root is a file inside the
 * root), a directory on the way renamed out of the root after it was opened (the handle follows
 * it), and a file created before a refusal (it stays where it was created, inside the root).
 * A path that names a symlink, a directory or anything but a regular file is refused with a
 * `GuardError` of code `PATH_OUT_OF_SCOPE`; other failures are the filesystem's own errors.
 *
 * @example
 * const file = await openInScope('/srv/data', args.path, { flags: 'w', parents: true });
 * try { await file.writeFile(args.text); } finally { await file.close(); }
 */
export function openInScope(
  root: string,
  path: string,
  options: OpenInScopeOptions | string = {},
): Promise<FileHandle> {
  return openWithin(root, path, options);
}

/**
 * Opens as `openInScope` does; `byPath: true` takes the walk used where `/proc/self/fd` is
 * missing, whatever the platform (for tests of that walk on Linux; not exported from the package).
 */
export async function openWithin(
  root: string,
  path: string,
  options: OpenInScopeOptions | string,
  byPath = false,
): Promise<FileHandle> {
  const { flags, mode, parents } = openOptions(options);
  if (O_NOFOLLOW === undefined || O_DIRECTORY === undefined)
    throw new GuardError({
      code: 'UNSUPPORTED',
      message: 'toolgate: openInScope needs O_NOFOLLOW (not on Windows)',
    });
  if (typeof root !== 'string' || pathProblem(root) !== undefined)
    throw new TypeError(`toolgate: openInScope() root ${JSON.stringify(root)} must be a plain absolute path`);
  if (typeof path !== 'string' || pathProblem(path, true) !== undefined)
    throw refused(path, 'is not a plain path (`..`, `%`, control characters and backslashes are refused)');
  const real = await realpath(root);
  const plain = plainPath(path);
  const names = isAbsolute(plain)
    ? (componentsBelow(plain, plainPath(root)) ?? componentsBelow(plain, real))
    : plain.split('/').filter((name) => name !== '' && name !== '.');
  if (names === undefined) throw refused(path, `is not inside ${root}`);
  if (names.length === 0) throw refused(path, 'names the root itself, not a file in it');
  const top = await open(real, O_RDONLY | O_DIRECTORY);
  try {
    const walk: Walk = { real, names, flags, mode, parents, path };
    const where = byPath ? undefined : await procPath(top.fd);
    if (where === undefined) return await walkByPath(walk);
    if (where !== real) throw refused(path, 'cannot be opened: the root moved');
    return await walkByDescriptor(top, walk);
  } finally {
    await top.close();
  }
}

function openOptions(options: OpenInScopeOptions | string): {
  flags: number;
  mode: number;
  parents: boolean;
} {
  const given = typeof options === 'string' ? { flags: options } : options;
  if (typeof given !== 'object' || given === null)
    throw new TypeError('toolgate: openInScope() options must be an object');
  const raw = given.flags ?? 'r';
  const flags = typeof raw === 'number' ? raw : FLAGS[raw];
  if (flags === undefined || !Number.isInteger(flags))
    throw new TypeError(`toolgate: openInScope() flags ${JSON.stringify(raw)} are not supported`);
  const mode = given.mode ?? 0o666;
  if (!Number.isInteger(mode) || mode < 0)
    throw new TypeError('toolgate: openInScope() mode must be a permission number');
  return { flags, mode, parents: given.parents === true };
}

/** Where `/proc/self/fd/N` says descriptor `fd` is; undefined when there is no such view. */
async function procPath(fd: number): Promise<string | undefined> {
  try {
    return await readlink(`${PROC_FD}/${fd}`);
  } catch {
    return undefined;
  }
}

function refused(path: unknown, why: string, cause?: unknown): GuardError {
  return new GuardError({
    code: 'PATH_OUT_OF_SCOPE',
    message: `toolgate: ${JSON.stringify(path)} ${why}`,
    cause,
  });
}

/** One open to make: the root's real path, the names below it, and how to open the file. */
interface Walk {
  readonly real: string;
  readonly names: readonly string[];
  readonly flags: number;
  readonly mode: number;
  readonly parents: boolean;
  /** The path as given, for error messages. */
  readonly path: string;
}

/** Linux: every step opens a name inside the directory a descriptor holds, never following a link. */
async function walkByDescriptor(top: FileHandle, walk: Walk): Promise<FileHandle> {
  const { real, names, flags, mode, parents, path } = walk;
  const opened: FileHandle[] = [];
  try {
    let dir = top;
    for (let i = 0; i < names.length - 1; i++) {
      const at = `${PROC_FD}/${dir.fd}/${names[i]}`;
      dir = await openDirectory(at, parents, () =>
        refused(path, `goes through ${names[i]}, a link or not a directory`),
      );
      opened.push(dir);
    }
    const last = names[names.length - 1]!;
    const file = await openFile(`${PROC_FD}/${dir.fd}/${last}`, flags, mode, path);
    const where = await procPath(file.fd);
    if (where === undefined || !inside(where, real)) {
      await file.close();
      throw refused(path, 'was opened outside the root (a directory on the way was moved)');
    }
    return file;
  } finally {
    for (const handle of opened) await handle.close();
  }
}

/** Elsewhere: the same walk by path, with device and inode compared before and after each step. */
async function walkByPath(walk: Walk): Promise<FileHandle> {
  const { real, names, flags, mode, parents, path } = walk;
  const chain: { path: string; dev: number; ino: number }[] = [];
  let dir = real;
  for (let i = 0; i < names.length - 1; i++) {
    const at = childOf(dir, names[i]!);
    const handle = await openDirectory(at, parents, () =>
      refused(path, `goes through ${names[i]}, a link or not a directory`),
    );
    try {
      const [opened, named] = await Promise.all([handle.stat(), lstat(at)]);
      if (named.isSymbolicLink() || opened.dev !== named.dev || opened.ino !== named.ino)
        throw refused(path, `goes through ${names[i]}, which changed while it was opened`);
      chain.push({ path: at, dev: opened.dev, ino: opened.ino });
    } finally {
      await handle.close();
    }
    dir = at;
  }
  const at = childOf(dir, names[names.length - 1]!);
  const file = await openFile(at, flags, mode, path);
  try {
    const opened = await file.stat();
    const named = await lstat(at);
    let same = !named.isSymbolicLink() && named.dev === opened.dev && named.ino === opened.ino;
    for (const step of chain) {
      const now = await lstat(step.path);
      same &&= !now.isSymbolicLink() && now.dev === step.dev && now.ino === step.ino;
    }
    if (!same) throw refused(path, 'changed while it was opened');
    return file;
  } catch (error) {
    await file.close();
    throw error;
  }
}

/** Opens a directory without following a link; creates it first when asked and missing. */
async function openDirectory(
  at: string,
  parents: boolean,
  notDirectory: () => GuardError,
): Promise<FileHandle> {
  const flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW;
  try {
    return await open(at, flags);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && parents) {
      // mkdir never follows a link in its last component: a link put there makes it fail.
      await mkdir(at, 0o777).catch((made: NodeJS.ErrnoException) => {
        if (made.code !== 'EEXIST') throw made;
      });
      try {
        return await open(at, flags);
      } catch (again) {
        throw linkOr(again, notDirectory);
      }
    }
    throw linkOr(error, notDirectory);
  }
}

/** Opens the file itself: `O_NOFOLLOW`, and `O_NONBLOCK` so a FIFO put there cannot hang the call. */
async function openFile(at: string, flags: number, mode: number, path: string): Promise<FileHandle> {
  let file: FileHandle;
  try {
    file = await open(at, flags | O_NOFOLLOW | O_NONBLOCK, mode);
  } catch (error) {
    throw linkOr(error, () => refused(path, 'is a symbolic link', error));
  }
  const stats = await file.stat().catch(async (error: unknown) => {
    await file.close();
    throw error;
  });
  if (!stats.isFile()) {
    await file.close();
    throw refused(path, 'is not a regular file');
  }
  return file;
}

/** A link where none may be (`ELOOP`, or `ENOTDIR` for a directory expected): the scope's error; else the error. */
function linkOr(error: unknown, scopeError: () => GuardError): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ELOOP' || code === 'ENOTDIR' || code === 'EMLINK' ? scopeError() : error;
}
