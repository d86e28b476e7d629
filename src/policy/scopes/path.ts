import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { isAbsolute, normalize } from 'node:path';
import { ConfigurationError } from '../../errors.ts';
import { childOf, componentsBelow, pathProblem, plainPath } from './path-names.ts';
import { defineScope, type PolicyScope } from './scope.ts';

/** Options of `pathScope`. */
export interface PathScopeOptions {
  /** Absolute directories the path must stay inside (resolved with realpath at construction). */
  roots: readonly string[];
  /**
   * Allow paths that go through symlinks, as long as each one's text names a place inside a root.
   * @default false
   */
  allowSymlinks?: boolean;
}

const PATH_KEYS = new Set(['roots', 'allowSymlinks']);

/** A root as configured, and its real path (resolved once, at construction). */
interface Root {
  readonly given: string;
  readonly real: string;
}

/**
 * A scope on a filesystem path: the value must be an absolute path inside one of `roots`. Refuses
 * `..` segments, `%` escapes, NUL, backslashes and control characters. Below the root, every
 * component that exists is inspected with `lstat`, dangling or not: with `allowSymlinks: false`
 * (the default) a symlink anywhere below the root refuses the path, so nothing the path names can
 * lead out (a dangling link would make a write create its target). With `allowSymlinks: true` each
 * symlink on the way is read, not resolved: its text, joined to the directory that holds it, must
 * name a place inside a root, inspected the same way (no dangling links, no loops, no link through
 * `/proc/self` or `/dev/fd`, which a tool in another process follows to its own cwd or files). Missing
 * components are fine: they will be created inside the last directory that exists, which was
 * inspected. Roots are resolved with realpath once, at construction; a path written through a
 * root's configured form (a symlink, say) is in scope only while that form still resolves to the
 * same directory. Not covered: a symlink swapped in between this check and the tool's own
 * `open()` (use `openInScope`), hard links (a hard link inside the root is a file inside the
 * root), and on case-insensitive filesystems a root spelled in another case (refused).
 *
 * @example
 * rules([{ id: 'read-data', effect: 'allow', tool: 'fs.read', when: { 'args.path': pathScope({ roots: ['/srv/data'] }) } }]);
 */
export function pathScope(options: PathScopeOptions): PolicyScope {
  if (typeof options !== 'object' || options === null)
    throw new ConfigurationError('pathScope() takes { roots, allowSymlinks? }');
  for (const key of Object.keys(options))
    if (!PATH_KEYS.has(key)) throw new ConfigurationError(`pathScope(): unknown option ${key}`);
  const { roots, allowSymlinks = false } = options;
  if (!Array.isArray(roots) || roots.length === 0)
    throw new ConfigurationError('pathScope(): roots must be a non-empty list of absolute paths');
  if (typeof allowSymlinks !== 'boolean')
    throw new ConfigurationError('pathScope(): allowSymlinks must be a boolean');
  const resolved: Root[] = roots.map((root) => {
    if (typeof root !== 'string' || pathProblem(root) !== undefined)
      throw new ConfigurationError(`pathScope(): root ${JSON.stringify(root)} must be a plain absolute path`);
    try {
      return { given: plainPath(root), real: realpathSync.native(normalize(root)) };
    } catch (error) {
      throw new ConfigurationError(
        `pathScope(): root ${root} cannot be resolved: ${(error as Error).message}`,
      );
    }
  });
  return defineScope({
    kind: 'path',
    spec: { roots: [...roots], allowSymlinks },
    test(value: unknown): boolean | undefined {
      if (typeof value !== 'string') return undefined;
      if (pathProblem(value) !== undefined) return false;
      const path = plainPath(value);
      for (const root of resolved) {
        for (const form of root.given === root.real ? [root.real] : [root.given, root.real]) {
          const below = componentsBelow(path, form);
          if (below === undefined) continue;
          if (stillResolves(form, root.real) && inspect(root.real, below, allowSymlinks, resolved))
            return true;
        }
      }
      return false;
    },
    explain(value: unknown): string | undefined {
      if (typeof value !== 'string') return undefined;
      const problem = pathProblem(value);
      if (problem !== undefined) return `is refused: ${problem}`;
      const path = plainPath(value);
      const under = resolved.some(
        (root) =>
          componentsBelow(path, root.given) !== undefined || componentsBelow(path, root.real) !== undefined,
      );
      return under
        ? `leads out of the roots (${allowSymlinks ? 'through a symlink whose text leads outside them, or one that dangles or loops' : 'a symlink, or something not a directory, on the way'})`
        : `is outside the roots ${roots.join(', ')}`;
    },
  });
}

/** Whether the root, written as `form`, still resolves to the real path found at construction. */
function stillResolves(form: string, real: string): boolean {
  try {
    return realpathSync.native(form) === real;
  } catch {
    return false;
  }
}

/** Links followed in one path at most, as Linux's `ELOOP` limit. */
const MAX_LINKS = 40;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Walks `components` down from the real root with `lstat`, one at a time: true when every
 * component that exists is a directory (or, last, anything but a symlink), and any symlink met is
 * allowed and, by its own text, leads inside a root. The first missing component ends the walk:
 * nothing below it exists either, and it will be created in a directory that was just inspected.
 *
 * A link is followed by reading it, never with `realpath`: its target is joined to the real
 * directory that holds it and must lie inside a root, and the walk goes on there. realpath would
 * follow `/proc/self/…` (and `/dev/fd/…`, a link into it) in the guard's process, while a tool in
 * another process follows it to its own cwd, root or descriptors.
 */
function inspect(
  real: string,
  components: readonly string[],
  allowSymlinks: boolean,
  roots: readonly Root[],
): boolean {
  let dir = real;
  // Each name to walk, and whether it comes from a link's text (a link must not dangle).
  const todo = components.map((name) => ({ name, fromLink: false }));
  let links = 0;
  for (let step = todo.shift(); step !== undefined; step = todo.shift()) {
    const next = childOf(dir, step.name);
    let stats: ReturnType<typeof lstatSync>;
    try {
      stats = lstatSync(next, { throwIfNoEntry: false });
    } catch {
      // Not a directory on the way, no permission, a name too long: nothing proves it in scope.
      return false;
    }
    if (stats === undefined) return !step.fromLink;
    if (stats.isSymbolicLink()) {
      if (!allowSymlinks || ++links > MAX_LINKS) return false;
      let text: string;
      try {
        // Bytes that are not UTF-8 would read as U+FFFD, another name than the one the kernel follows.
        text = UTF8.decode(readlinkSync(next, { encoding: 'buffer' }));
      } catch {
        return false;
      }
      if (text === '') return false;
      // `dir` holds no link (every step to it was inspected), so `..` in the text means its parent.
      const target = plainPath(isAbsolute(text) ? text : `${dir}/${text}`);
      const below = belowARoot(target, roots);
      if (below === undefined) return false;
      todo.unshift(...below.names.map((name) => ({ name, fromLink: true })));
      dir = below.root;
      continue;
    }
    if (todo.length > 0 && !stats.isDirectory()) return false;
    dir = next;
  }
  return true;
}

/**
 * The real path of the root `path` is written under (as its real path, or its configured form),
 * and the names below it; undefined when it is under none, or that form no longer resolves there.
 */
function belowARoot(path: string, roots: readonly Root[]): { root: string; names: string[] } | undefined {
  for (const root of roots) {
    for (const form of root.given === root.real ? [root.real] : [root.real, root.given]) {
      const names = componentsBelow(path, form);
      if (names !== undefined && stillResolves(form, root.real)) return { root: root.real, names };
    }
  }
  return undefined;
}
