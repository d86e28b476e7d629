import { execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { GuardError, openInScope as openByDescriptor, pathScope } from '../../src/index.ts';
import { openWithin } from '../../src/policy/scopes/open-in-scope.ts';
import { request } from './helpers.ts';
import { pathSandbox } from './path-sandbox.ts';

function sandbox() {
  const dirs = pathSandbox('toolgate-open-');
  mkdirSync(join(dirs.root, 'sub'));
  return dirs;
}

const refusedCode = (error: unknown) =>
  GuardError.isInstance(error) ? error.code : (error as Error).message;

// The same cases for both walks: by descriptor (Linux) and by path (elsewhere).
describe.each([
  ['by descriptor', openByDescriptor],
  [
    'by path',
    (root: string, path: string, options: Parameters<typeof openWithin>[2] = {}) =>
      openWithin(root, path, options, true),
  ],
])('openInScope, %s', (_, openInScope) => {
  it('opens and creates files inside the root, by absolute or relative path', async () => {
    const { root } = sandbox();
    writeFileSync(join(root, 'sub', 'a.txt'), 'hello');
    const read = await openInScope(root, join(root, 'sub', 'a.txt'));
    expect(await read.readFile('utf8')).toBe('hello');
    await read.close();
    const write = await openInScope(root, 'new/dir/b.txt', { flags: 'w', parents: true });
    await write.writeFile('written');
    await write.close();
    expect(readFileSync(join(root, 'new', 'dir', 'b.txt'), 'utf8')).toBe('written');
    const append = await openInScope(root, 'sub/a.txt', 'a');
    await append.writeFile('!');
    await append.close();
    expect(readFileSync(join(root, 'sub', 'a.txt'), 'utf8')).toBe('hello!');
  });

  it('refuses every link below the root, dangling or not, first or last, and never creates through one', async () => {
    const { root, outside } = sandbox();
    writeFileSync(join(outside, 'secret'), 's');
    symlinkSync(join(outside, 'created.txt'), join(root, 'dangling'));
    symlinkSync(outside, join(root, 'dir-out'));
    symlinkSync(join(root, 'sub'), join(root, 'dir-in'));
    symlinkSync(join(outside, 'secret'), join(root, 'sub', 'file-out'));
    symlinkSync('loop', join(root, 'loop'));
    for (const [path, flags] of [
      ['dangling', 'w'],
      ['dangling', 'a'],
      ['dir-out/secret', 'r'],
      ['dir-out/new.txt', 'w'],
      ['dir-in/x', 'w'],
      ['sub/file-out', 'r'],
      ['loop', 'w'],
      ['loop/x', 'w'],
    ] as const) {
      const error = await openInScope(root, path, { flags, parents: true }).then(
        (handle) => handle.close().then(() => 'opened'),
        (e: unknown) => e,
      );
      expect(refusedCode(error), path).toBe('PATH_OUT_OF_SCOPE');
    }
    expect(readdirSync(outside)).toEqual(['secret']);
    expect(existsSync(join(root, 'sub', 'x'))).toBe(false);
  });

  it('refuses names outside the root, `..`, the root itself, and anything but a regular file', async () => {
    const { base, root } = sandbox();
    for (const path of [
      `${base}/outside/x`,
      `${root}_evil/x`,
      '../outside/x',
      'sub/../../x',
      root,
      '%2e%2e/x',
    ])
      await expect(openInScope(root, path, 'w'), path).rejects.toSatisfy(GuardError.isInstance);
    await expect(openInScope(root, 'sub', 'r')).rejects.toSatisfy(GuardError.isInstance);
    await expect(openInScope(root, 'sub', 'w')).rejects.toMatchObject({ code: 'EISDIR' });
    // A FIFO put where a file is expected neither hangs the call nor is opened.
    execFileSync('mkfifo', [join(root, 'pipe')]);
    await expect(openInScope(root, 'pipe', 'r')).rejects.toSatisfy(GuardError.isInstance);
    await expect(openInScope(root, 'pipe', 'r+')).rejects.toSatisfy(GuardError.isInstance);
  });

  it('a root given as a symlink is resolved; paths may be written through either form', async () => {
    const { base, root } = sandbox();
    const alias = join(base, 'alias');
    symlinkSync(root, alias);
    for (const path of [join(alias, 'sub', 'x.txt'), join(root, 'sub', 'y.txt')]) {
      const handle = await openInScope(alias, path, 'w');
      await handle.close();
    }
    expect(readdirSync(join(root, 'sub')).sort()).toEqual(['x.txt', 'y.txt']);
  });
});

describe.runIf(process.platform === 'linux')('openInScope under a concurrent swapper process', () => {
  const openInScope = openByDescriptor;
  it('never lands outside the root while a directory flips to a symlink and back; a check-then-open does', {
    timeout: 180_000,
  }, async () => {
    const { root, outside } = sandbox();
    mkdirSync(join(root, 'dir'));
    // A real process flipping root/dir between the directory and a symlink to outside/, as fast as it can.
    const swapper = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('fs');
         const [dir, saved, outside] = process.argv.slice(1);
         for (;;) {
           try { fs.renameSync(dir, saved); } catch {}
           try { fs.symlinkSync(outside, dir); } catch {}
           try { fs.unlinkSync(dir); } catch {}
           try { fs.renameSync(saved, dir); } catch {}
         }`,
        join(root, 'dir'),
        join(root, 'dir-saved'),
        outside,
      ],
      { stdio: 'ignore' },
    );
    try {
      const scope = pathScope({ roots: [root] });
      const req = request('fs.write');
      // Wait until the swapper runs (its process takes a while to start).
      const started = Date.now();
      while (!isLink(join(root, 'dir')) && Date.now() - started < 20_000)
        await new Promise((r) => setImmediate(r));
      // The naive tool: check, then open by path. The swapper makes it escape, which shows the race is real.
      let naiveEscapes = 0;
      const naiveStart = Date.now();
      // Up to 60 s: with CI's Node 20, 22 and 24 suites on two cores at once, the swapper gets few
      // time slices, and one CI run saw no escape within 20 s.
      for (let i = 0; naiveEscapes === 0 && Date.now() - naiveStart < 60_000; i++) {
        const path = join(root, 'dir', `naive-${i}.txt`);
        if (scope.test(path, req) !== true) continue;
        try {
          writeFileSync(path, 'x');
        } catch {
          // The directory was gone at that moment.
        }
        naiveEscapes = readdirSync(outside).length;
      }
      expect(naiveEscapes).toBeGreaterThan(0);
      rmSync(outside, { recursive: true, force: true });
      mkdirSync(outside);

      let opened = 0;
      let refused = 0;
      // At least 1,500 rounds, and on until both outcomes were seen (a loaded machine may give the
      // swapper little time: one CI run, its three suites on two cores, saw no refusal in 30 s),
      // within 90 s.
      const racing = Date.now();
      for (let i = 0; i < 1_500 || ((opened === 0 || refused === 0) && Date.now() - racing < 90_000); i++) {
        for (const parents of [false, true]) {
          try {
            const handle = await openInScope(root, `dir/safe-${i}-${parents}.txt`, { flags: 'w', parents });
            // The kernel's own path of the open file, read in one step: realpath would walk it
            // again while the swapper renames its directory (and fail with EINVAL or ENOENT).
            const where = readlinkSync(`/proc/self/fd/${handle.fd}`);
            await handle.close();
            expect(where.startsWith(`${root}/`), where).toBe(true);
            opened += 1;
          } catch (error) {
            if (!GuardError.isInstance(error) && (error as NodeJS.ErrnoException).code !== 'ENOENT')
              throw error;
            refused += 1;
          }
        }
      }
      expect(readdirSync(outside)).toEqual([]);
      // The naive phase proved the swapper runs. Whether the walk also met a swapped directory in
      // this run depends on the scheduler (on two busy cores, a CI run saw none in 90 s): said,
      // not failed, as the guarantee (nothing outside) was checked either way.
      expect(opened).toBeGreaterThan(0);
      if (refused === 0)
        console.warn('openInScope race: the swapper never met the walk in this run (no refusal to count)');
    } finally {
      swapper.kill();
    }
  });
});

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}
