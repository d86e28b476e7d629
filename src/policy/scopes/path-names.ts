import { isAbsolute, normalize } from 'node:path';

/** Longest path looked at. */
const MAX_PATH = 4096;

/**
 * Why a path string is refused before the filesystem is asked anything: empty or too long, not
 * absolute (unless `relative` is allowed), a `..` segment, `%` (an encoding left for someone else
 * to decode), NUL, a backslash or another control character, a lone surrogate, or not in Unicode
 * NFC. A lone surrogate has no UTF-8 form: Node opens U+FFFD in its place while another runtime
 * (Python's surrogateescape) opens a raw byte, so the file checked would not be the file opened.
 */
export function pathProblem(value: string, relative = false): string | undefined {
  if (value.length === 0 || value.length > MAX_PATH) return 'length';
  if (!relative && !isAbsolute(value)) return 'not absolute';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f%\\]/.test(value)) return 'forbidden character';
  if (/\p{Cs}/u.test(value)) return 'lone surrogate';
  if (value.split('/').includes('..')) return 'dot-dot segment';
  if (value.normalize('NFC') !== value) return 'not NFC';
  return undefined;
}

/** The path without `.` segments, doubled slashes or a trailing slash. */
export function plainPath(path: string): string {
  const normalized = normalize(path);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

/** Whether `path` is `root` or below it (whole components only: `/data_evil` is not below `/data`). */
export function inside(path: string, root: string): boolean {
  if (root === '/') return path.startsWith('/');
  return path === root || path.startsWith(`${root}/`);
}

/** The components of a plain `path` below `root` (`[]` for the root itself), or undefined when it is not below. */
export function componentsBelow(path: string, root: string): string[] | undefined {
  if (!inside(path, root)) return undefined;
  const rest = path.slice(root === '/' ? 1 : root.length + 1);
  return rest === '' ? [] : rest.split('/');
}

/** `dir/name`, without doubling the slash of `/`. */
export function childOf(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}
