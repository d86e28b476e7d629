import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pathScope } from '../../src/index.ts';
import { request } from './helpers.ts';
import { pathSandbox } from './path-sandbox.ts';

// With `allowSymlinks`, the scope resolved each link with realpath, in the guard's process. A link
// through `/proc/self` (or `/dev/fd`, `/dev/stdin`: links into it) names something else in every
// process: a tool in another process (an MCP server behind the proxy, a Python script) follows it
// to its own cwd, root or descriptors. The oracle is such a tool: python3, run with another cwd.

const req = request('t');
const linux = process.platform === 'linux';
const hasPython = spawnSync('python3', ['--version']).status === 0;

function python(path: string, cwd: string): string {
  return execFileSync('python3', ['-c', 'import sys; print(open(sys.argv[1]).read(), end="")', path], {
    cwd,
  }).toString();
}

describe.runIf(linux)('pathScope, allowSymlinks: links whose meaning depends on the process', () => {
  const { base, root, outside } = pathSandbox('toolgate-path-links-');
  const before = process.cwd();
  let fd = -1;
  beforeAll(() => {
    writeFileSync(join(root, 'notes.txt'), 'inside');
    writeFileSync(join(outside, 'notes.txt'), 'outside');
    // The agent's workspace is the guard's cwd, as `roots: [process.cwd()]` would make it.
    process.chdir(root);
    fd = openSync(join(root, 'notes.txt'), 'r');
    symlinkSync('/proc/self/cwd/notes.txt', join(root, 'cwd-link'));
    symlinkSync('/proc/thread-self/cwd/notes.txt', join(root, 'thread-link'));
    symlinkSync(`/proc/self/fd/${fd}`, join(root, 'fd-link'));
    symlinkSync(`/dev/fd/${fd}`, join(root, 'dev-fd-link'));
    symlinkSync('/proc/self/root/', join(root, 'root-link'));
    symlinkSync(`../../../../../../../../proc/self/cwd`, join(root, 'relative-link'));
  });
  afterAll(() => {
    process.chdir(before);
    if (fd !== -1) closeSync(fd);
  });

  it.runIf(hasPython)('the oracle: a tool with another cwd opens the file outside the root', () => {
    expect(realpathSync(join(root, 'cwd-link'))).toBe(join(root, 'notes.txt'));
    expect(python(join(root, 'cwd-link'), outside)).toBe('outside');
    expect(python(join(root, 'relative-link', 'notes.txt'), outside)).toBe('outside');
  });

  it.each([
    'cwd-link',
    'thread-link',
    'fd-link',
    'dev-fd-link',
    `root-link${base}/outside/notes.txt`,
    'relative-link/notes.txt',
  ])('%s is refused', (rest) => {
    const scope = pathScope({ roots: [root], allowSymlinks: true });
    expect(scope.test(join(root, rest), req)).toBe(false);
    // A root of `/proc` or `/` would take them in; a root the links leave never does.
    expect(pathScope({ roots: [root, outside], allowSymlinks: true }).test(join(root, rest), req)).toBe(
      false,
    );
  });

  it('links that stay inside the roots by their text still pass', () => {
    symlinkSync('notes.txt', join(root, 'plain-link'));
    symlinkSync(join(outside, 'notes.txt'), join(root, 'to-outside'));
    symlinkSync(join(base, 'alias'), join(root, 'via-alias'));
    symlinkSync(root, join(base, 'alias'));
    const scope = pathScope({ roots: [root], allowSymlinks: true });
    expect(scope.test(join(root, 'plain-link'), req)).toBe(true);
    expect(scope.test(join(root, 'to-outside'), req)).toBe(false);
    expect(
      pathScope({ roots: [root, outside], allowSymlinks: true }).test(join(root, 'to-outside'), req),
    ).toBe(true);
    // Through a link outside every root: the tool would follow it too, but the scope cannot vouch for it.
    expect(scope.test(join(root, 'via-alias', 'notes.txt'), req)).toBe(false);
  });
});

describe.runIf(linux)('pathScope, allowSymlinks: link text is read as bytes', () => {
  it('refuses a link whose text is not UTF-8 (it would read as U+FFFD, another name)', () => {
    const { root, outside } = pathSandbox('toolgate-path-bytes-');
    writeFileSync(join(outside, 'secret'), 'outside');
    const raw = Buffer.concat([Buffer.from(`${root}/`), Buffer.from([0xff])]);
    symlinkSync(outside, raw);
    mkdirSync(join(root, '\ufffd'));
    writeFileSync(join(root, '\ufffd', 'secret'), 'inside');
    symlinkSync(Buffer.from([0xff]), join(root, 'bytes-link'));
    if (hasPython) expect(python(join(root, 'bytes-link', 'secret'), root)).toBe('outside');
    const scope = pathScope({ roots: [root], allowSymlinks: true });
    expect(scope.test(join(root, 'bytes-link', 'secret'), req)).toBe(false);
    expect(scope.test(join(root, '\ufffd', 'secret'), req)).toBe(true);
  });
});
