import { compileGlob } from '../_internal/glob.ts';

/**
 * Whether every name `inner` matches is also matched by `outer` (anchored globs where `*` is any
 * run of characters). Exact: replace each `*` of `inner` by a character `outer` does not contain;
 * `outer` matches the result exactly when it matches every name `inner` does, since only its own
 * stars can absorb that character, and they absorb any run of characters equally well.
 */
export function globWithin(inner: string, outer: string): boolean {
  const source = outer.normalize('NFC');
  let fresh = 0xe000;
  while (source.includes(String.fromCharCode(fresh))) fresh += 1;
  return compileGlob(source).test(inner.normalize('NFC').replaceAll('*', String.fromCharCode(fresh)));
}

/** The globs of `inner` that no glob of `outer` covers. */
export function globsOutside(inner: readonly string[], outer: readonly string[]): string[] {
  return inner.filter((glob) => !outer.some((candidate) => globWithin(glob, candidate)));
}

/** Whether `name` matches one of `globs`. */
export function matchesAny(name: string, globs: readonly string[]): boolean {
  return globs.some((glob) => compileGlob(glob).test(name.normalize('NFC')));
}
