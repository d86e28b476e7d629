import { realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { ConfigurationError } from '../../errors.ts';
import { defineScope, type PolicyScope } from './scope.ts';

/** Options of `pathScope`. */
export interface PathScopeOptions {
  /** Absolute directories the path must stay inside (resolved with realpath at construction). */
  roots: readonly string[];
  /**
   * Allow paths that go through symlinks, as long as their target stays inside a root.
   * @default false
   */
  allowSymlinks?: boolean;
}

const PATH_KEYS = new Set(['roots', 'allowSymlinks']);
const MAX_PATH = 4096;

/**
 * A scope on a filesystem path: the value must be an absolute path inside one of `roots`. Refuses
 * `..` segments, `%` escapes, NUL, backslashes and control characters; resolves the path with
 * realpath (the longest existing part of it), so neither a sibling sharing a prefix (`/data_evil`
 * for `/data`) nor a symlink leads out. With `allowSymlinks: false` (the default) any symlink on
 * the way refuses the path. Not covered: a symlink swapped between this check and the tool's own
 * `open()`.
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
  const resolvedRoots = roots.map((root) => {
    if (typeof root !== 'string' || pathProblem(root) !== undefined)
      throw new ConfigurationError(`pathScope(): root ${JSON.stringify(root)} must be a plain absolute path`);
    try {
      return { given: stripTrailingSlash(normalize(root)), real: realpathSync.native(normalize(root)) };
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
      const normalized = normalize(value);
      const resolved = resolveExisting(normalized);
      if (resolved === undefined) return false;
      const plain = stripTrailingSlash(normalized);
      return resolvedRoots.some(({ given, real }) => {
        if (allowSymlinks) return inside(resolved, real);
        // No symlink below the root: the resolved path is the root's real path plus the same rest.
        for (const base of [given, real]) {
          if (inside(plain, base) && resolved === joinRest(real, plain.slice(base === '/' ? 0 : base.length)))
            return true;
        }
        return false;
      });
    },
  });
}

/** Why a path string is refused before touching the filesystem. */
function pathProblem(value: string): string | undefined {
  if (value.length === 0 || value.length > MAX_PATH) return 'length';
  if (!isAbsolute(value)) return 'not absolute';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f%\\]/.test(value)) return 'forbidden character';
  if (value.split('/').includes('..')) return 'dot-dot segment';
  if (value.normalize('NFC') !== value) return 'not NFC';
  return undefined;
}

function stripTrailingSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** realpath of the longest existing prefix, with the rest appended; undefined when nothing resolves. */
function resolveExisting(path: string): string | undefined {
  let current = stripTrailingSlash(path);
  const rest: string[] = [];
  for (let i = 0; i < 4096; i++) {
    try {
      const real = realpathSync.native(current);
      return rest.length === 0 ? real : join(real, ...rest.reverse());
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
      const parent = dirname(current);
      if (parent === current) return undefined;
      rest.push(current.slice(parent === '/' ? 1 : parent.length + 1));
      current = parent;
    }
  }
  return undefined;
}

function joinRest(root: string, rest: string): string {
  if (rest === '') return root;
  return root === '/' ? rest : `${root}${rest}`;
}

function inside(path: string, root: string): boolean {
  if (root === '/') return true;
  return path === root || path.startsWith(`${root}/`);
}
