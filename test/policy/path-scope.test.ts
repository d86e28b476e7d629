import {
  appendFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createGuard, openInScope, pathScope, rules, ToolDeniedError } from '../../src/index.ts';
import { request } from './helpers.ts';
import { dropSandbox, pathSandbox } from './path-sandbox.ts';

// Issue 14, finding 4: a dangling symlink inside the root that points outside was taken for a file
// not created yet, and allowed; a guarded write then created the file outside the root. The
// filesystem is the judge here: whatever the scope allows is created as a tool would create it,
// and must land (realpath) inside the root.

const req = request('t');
const sandbox = () => pathSandbox('toolgate-path-');

/** Every entry below `dir` (not following links), as `path kind`, for "nothing changed out there". */
function listing(dir: string, skip?: string): string[] {
  const out: string[] = [];
  const walk = (at: string) => {
    for (const name of readdirSync(at)) {
      const path = join(at, name);
      if (path === skip) continue;
      const stats = lstatSync(path);
      out.push(
        `${path} ${stats.isSymbolicLink() ? `-> ${readlinkSync(path)}` : stats.isDirectory() ? 'dir' : stats.size}`,
      );
      if (stats.isDirectory() && !stats.isSymbolicLink()) walk(path);
    }
  };
  walk(dir);
  return out.sort();
}

describe('finding 4: a dangling symlink below the root', () => {
  it('refuses the path, and a guarded write through it never runs', async () => {
    const { root, outside } = sandbox();
    symlinkSync(join(outside, 'created-by-write.txt'), join(root, 'report.txt'));
    symlinkSync('../outside/relative.txt', join(root, 'relative.txt'));
    const scope = pathScope({ roots: [root] });
    expect(scope.test(join(root, 'report.txt'), req)).toBe(false);
    expect(scope.test(join(root, 'relative.txt'), req)).toBe(false);

    const tg = createGuard({
      policy: rules([
        {
          id: 'write',
          effect: 'allow',
          tool: 'fs.write',
          when: { 'args.path': pathScope({ roots: [root] }) },
        },
      ]),
    });
    const write = tg.guard((args: { path: string }) => writeFileSync(args.path, 'x'), { name: 'fs.write' });
    await expect(write({ path: join(root, 'report.txt') })).rejects.toSatisfy(ToolDeniedError.isInstance);
    expect(readdirSync(outside)).toEqual([]);
    await write({ path: join(root, 'fine.txt') });
    expect(readdirSync(root)).toContain('fine.txt');
  });
});

describe('pathScope: the class of links and names', () => {
  const { base, root, outside } = sandbox();
  mkdirSync(join(root, 'sub', 'deep'), { recursive: true });
  writeFileSync(join(root, 'file.txt'), 'f');
  writeFileSync(join(outside, 'secret'), 's');
  symlinkSync(outside, join(root, 'dir-out'));
  symlinkSync(join(root, 'sub'), join(root, 'dir-in'));
  symlinkSync('sub', join(root, 'dir-in-relative'));
  symlinkSync('chain-2', join(root, 'chain-1'));
  symlinkSync('../outside', join(root, 'chain-2'));
  symlinkSync('loop-b', join(root, 'loop-a'));
  symlinkSync('loop-a', join(root, 'loop-b'));
  symlinkSync(join(root, 'file.txt'), join(root, 'sub', 'file-link'));
  symlinkSync(join(root, 'sub', 'nowhere'), join(root, 'dangling-in'));
  symlinkSync(join(base, 'root_evil'), join(root, 'sibling'));
  const alias = join(base, 'alias');
  symlinkSync(root, alias);
  const strict = pathScope({ roots: [root] });
  const loose = pathScope({ roots: [root], allowSymlinks: true });
  const viaAlias = pathScope({ roots: [alias] });

  it.each([
    ['file.txt', true, true],
    ['new/dir/file.txt', true, true],
    ['sub/deep/x', true, true],
    ['file.txt/below', false, false],
    ['dir-out/secret', false, false],
    ['dir-out/new/file', false, false],
    ['dir-out', false, false],
    ['dir-in/x', false, true],
    ['dir-in-relative/deep/x', false, true],
    ['chain-1/secret', false, false],
    ['loop-a', false, false],
    ['loop-a/x', false, false],
    ['sub/file-link', false, true],
    ['dangling-in', false, false],
    ['sibling/x', false, false],
  ])('%s → strict %s, allowSymlinks %s', (rest, strictly, loosely) => {
    expect(strict.test(join(root, rest), req)).toBe(strictly);
    expect(loose.test(join(root, rest), req)).toBe(loosely);
  });

  it('refuses names that are not plain: `..`, escapes, siblings sharing a prefix', () => {
    for (const path of [
      `${root}/sub/../../outside/secret`,
      `${root}/../outside/secret`,
      `${root}/%2e%2e/outside`,
      `${root}_evil/x`,
      `${root}\\..\\outside`,
      'sub/x',
    ])
      expect(strict.test(path, req), path).toBe(false);
    expect(strict.test(`${root}//sub/./deep/`, req)).toBe(true);
  });

  it('refuses a path holding a lone surrogate: it has no UTF-8 form, so runtimes open different files', () => {
    // Node opens U+FFFD in its place; Python (surrogateescape, e.g. an MCP server behind the proxy)
    // opens the raw byte 0x80–0xFF, which can name a link out of the root the scope never saw.
    fc.assert(
      fc.property(
        fc.integer({ min: 0xd800, max: 0xdfff }),
        fc.constantFrom('', 'sub/', 'sub/deep/'),
        fc.constantFrom('', '/secret', 'x'),
        (unit, before, after) => {
          const path = `${root}/${before}${String.fromCharCode(unit)}${after}`;
          return !strict.test(path, req) && !loose.test(path, req);
        },
      ),
    );
    // A pair is a character like any other.
    expect(strict.test(`${root}/sub/\ud83d\ude00`, req)).toBe(true);
  });

  it('a root that is a symlink is resolved once, at construction, and must keep resolving there', () => {
    expect(viaAlias.test(join(alias, 'file.txt'), req)).toBe(true);
    expect(viaAlias.test(join(root, 'file.txt'), req)).toBe(true);
    // The alias now points elsewhere: paths written through it are refused, the real ones are not.
    unlinkSync(alias);
    symlinkSync(outside, alias);
    expect(viaAlias.test(join(alias, 'secret'), req)).toBe(false);
    expect(viaAlias.test(join(root, 'file.txt'), req)).toBe(true);
  });
});

// --- The filesystem as the oracle -----------------------------------------------------------

const NAMES = ['a', 'b', 'c'] as const;
const name = fc.constantFrom(...NAMES);
const components = fc.array(name, { minLength: 1, maxLength: 3 });

type Op =
  | { op: 'dir' | 'file'; at: string[] }
  | { op: 'link'; at: string[]; target: { kind: 'relative' | 'root' | 'outside' | 'base'; parts: string[] } };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constantFrom('dir' as const, 'file' as const), at: components }),
  fc.record({
    op: fc.constant('link' as const),
    at: components,
    target: fc.record({
      kind: fc.constantFrom('relative' as const, 'root' as const, 'outside' as const, 'base' as const),
      parts: fc.array(fc.constantFrom('a', 'b', 'c', '..', '.', 'outside', 'root', 'root_evil', 'x'), {
        maxLength: 4,
      }),
    }),
  }),
);

/** A candidate path: through the root as configured, its alias, or a sibling; any components. */
const candidate = fc.record({
  form: fc.constantFrom('root', 'alias', 'evil'),
  parts: fc.array(fc.constantFrom('a', 'b', 'c', 'new', '.', '..', ''), { minLength: 0, maxLength: 4 }),
  slash: fc.boolean(),
});

function build(ops: readonly Op[], dirs: ReturnType<typeof sandbox>): void {
  const { base, root, outside } = dirs;
  for (const step of ops) {
    const at = join(root, ...step.at);
    try {
      if (step.op === 'link') {
        const parts = step.target.parts.join('/');
        const target = {
          relative: parts === '' ? '.' : parts,
          root: join(root, parts),
          outside: join(outside, parts),
          base: join(base, parts),
        }[step.target.kind];
        symlinkSync(target, at);
      } else if (step.op === 'dir') mkdirSync(at, { recursive: true });
      else writeFileSync(at, 'data');
    } catch {
      // A step that cannot be taken (a parent missing or a file, a name taken) is skipped.
    }
  }
}

describe.runIf(process.platform === 'linux')('pathScope against the filesystem (property)', () => {
  for (const allowSymlinks of [false, true]) {
    it(`allowSymlinks: ${allowSymlinks}: whatever is allowed, created as a tool would, lands inside the root`, async () => {
      let allowed = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(op, { maxLength: 12 }),
          fc.array(candidate, { minLength: 1, maxLength: 20 }),
          async (ops, paths) => {
            const dirs = sandbox();
            const { base, root } = dirs;
            const alias = join(base, 'alias');
            symlinkSync(root, alias);
            build(ops, dirs);
            const scope = pathScope({ roots: [alias], allowSymlinks });
            const before = listing(base, root);
            for (const { form, parts, slash } of paths) {
              const start = { root, alias, evil: join(base, 'root_evil') }[form]!;
              const path = `${start}/${parts.join('/')}${slash ? '/' : ''}`;
              const inScope = scope.test(path, req);
              if (inScope === true) {
                allowed += 1;
                // As a tool would: `mkdir -p` the parent, then create or append (O_CREAT, following links).
                try {
                  mkdirSync(dirname(path), { recursive: true });
                  appendFileSync(path, '');
                } catch {
                  // A directory there, a file on the way: the tool fails, and nothing escaped.
                }
                let landed: string | undefined;
                try {
                  landed = realpathSync(path);
                } catch {
                  landed = undefined;
                }
                if (landed !== undefined)
                  expect(landed === root || landed.startsWith(`${root}/`), `${path} → ${landed}`).toBe(true);
              }
              // openInScope never opens what the strict scope refuses, and never lands outside.
              let opened: string | undefined;
              try {
                const file = await openInScope(alias, path, { flags: 'a', parents: true });
                opened = realpathSync(`/proc/self/fd/${file.fd}`);
                await file.close();
              } catch {
                opened = undefined;
              }
              if (opened !== undefined) {
                expect(opened.startsWith(`${root}/`), `${path} opened at ${opened}`).toBe(true);
                if (!allowSymlinks) expect(inScope, path).toBe(true);
              }
            }
            // Nothing outside the root changed: no file created, no directory made, through any link.
            expect(listing(base, root)).toEqual(before);
            dropSandbox(base);
          },
        ),
        { numRuns: 300 },
      );
      expect(allowed).toBeGreaterThan(100);
    }, 120_000);
  }
});
