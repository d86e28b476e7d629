import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * A fresh directory with `root/`, `outside/` and `root_evil/` in it (real paths), removed after the
 * file's tests. Call it at the top of a test file or inside tests.
 */
export function pathSandbox(prefix: string): { base: string; root: string; outside: string } {
  const base = realpathSync(mkdtempSync(join(tmpdir(), prefix)));
  created.push(base);
  const root = join(base, 'root');
  const outside = join(base, 'outside');
  mkdirSync(root);
  mkdirSync(outside);
  mkdirSync(join(base, 'root_evil'));
  return { base, root, outside };
}

const created: string[] = [];
afterAll(() => {
  for (const base of created.splice(0)) rmSync(base, { recursive: true, force: true });
});

/** Removes a sandbox now (a property that makes many of them cleans up as it goes). */
export function dropSandbox(base: string): void {
  rmSync(base, { recursive: true, force: true });
  const at = created.indexOf(base);
  if (at !== -1) created.splice(at, 1);
}
