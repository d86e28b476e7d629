// The docs checker (scripts/check-docs.ts): which blocks it reads, what their directives mean, and
// that every problem points at the Markdown file and line.
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkDocs } from '../../scripts/check-docs.ts';
import { extractBlocks } from '../../scripts/docs-blocks.ts';

const root = join(import.meta.dirname, '..', '..');

describe('extractBlocks', () => {
  it('reads TypeScript blocks with their first code line and directive; other blocks are ignored', () => {
    const page = [
      '# Page', // 1
      '```sh', // 2
      'npm test', // 3
      '```', // 4
      '```ts', // 5
      'const a = 1;', // 6
      '```', // 7
      '<!-- docs-check: no-run it listens on a port -->', // 8
      '```typescript', // 9
      'const b = 2;', // 10
      '```', // 11
      '<!-- docs-check', // 12
      'declare const tg: unknown;', // 13
      '-->', // 14
      '```ts', // 15
      'tg;', // 16
      '```', // 17
      '````md', // 18
      '```ts', // 19
      'not a block of its own', // 20
      '```', // 21
      '````', // 22
      '<!-- docs-check: same-as examples/x.ts -->', // 23
      '```ts', // 24
      'x', // 25
      '```', // 26
    ].join('\n');
    const { blocks, problems } = extractBlocks(page, 'docs/page.md');
    expect(problems).toEqual([]);
    expect(blocks.map((b) => [b.line, b.code, b.mode])).toEqual([
      [6, 'const a = 1;', { kind: 'program' }],
      [10, 'const b = 2;', { kind: 'no-run', why: 'it listens on a port' }],
      [16, 'tg;', { kind: 'fragment', preamble: 'declare const tg: unknown;', preambleLine: 13 }],
      [25, 'x', { kind: 'same-as', path: 'examples/x.ts' }],
    ]);
  });

  it('reports an unreadable directive, or one without a reason, at its line', () => {
    const page = [
      '<!-- docs-check: maybe -->',
      '```ts',
      'a',
      '```',
      '',
      '<!-- docs-check: skip -->',
      '```ts',
      'b',
      '```',
    ];
    const { problems } = extractBlocks(page.join('\n'), 'README.md');
    expect(problems.map((p) => [p.line, p.message.split(';')[0]])).toEqual([
      [1, 'docs-check: unknown directive'],
      [6, 'docs-check: skip needs a reason'],
    ]);
  });
});

describe('checkDocs', () => {
  const dir = `.docs-check-fixture-${randomUUID().slice(0, 8)}`;
  const out = `.docs-check-out-${randomUUID().slice(0, 8)}`;
  mkdirSync(join(root, dir));
  afterAll(() => rmSync(join(root, dir), { recursive: true, force: true }));

  it('typechecks under strict, runs programs, and names the page and line of every problem', async () => {
    writeFileSync(join(root, dir, 'example.ts'), 'export const same = 1;\n');
    const page = [
      '# Fixture', // 1
      '```ts', // 2
      "import assert from 'node:assert/strict';", // 3
      'assert.equal(1 + 1, 2);', // 4
      '```', // 5
      '```ts', // 6
      'const n: number = 1;', // 7
      'const s: string = n;', // 8: type error
      '```', // 9
      '<!-- docs-check', // 10
      'declare const value: string;', // 11
      'const wrong: number = value;', // 12: type error in the preamble
      '-->', // 13
      '```ts', // 14
      'console.log(value.length);', // 15
      '```', // 16
      '```ts', // 17
      'const items: string[] = [];', // 18
      'if (items.length === 0) throw new Error("nothing to show");', // 19: runtime failure
      '```', // 20
      `<!-- docs-check: same-as ${dir}/example.ts -->`, // 21
      '```ts', // 22
      'export const same = 2;', // 23: differs from the file
      '```', // 24
      '<!-- docs-check: no-run it would wait forever -->', // 25
      '```ts', // 26
      'await new Promise(() => {});', // 27
      '```', // 28
    ].join('\n');
    writeFileSync(join(root, dir, 'page.md'), page);
    const result = await checkDocs({ files: [`${dir}/page.md`], out, timeoutMs: 30_000 });
    const file = `${dir}/page.md`;
    expect(result.checked).toBe(6);
    expect(result.ran).toBe(2); // a program with type errors is not run
    expect(result.failures).toHaveLength(4);
    expect(result.failures[0]).toMatch(
      new RegExp(`^${file}:8:7 - error TS2322: Type 'number' is not assignable`),
    );
    expect(result.failures[1]).toMatch(new RegExp(`^${file}:12:7 - error TS2322`));
    expect(result.failures[2]).toMatch(new RegExp(`^${file}:18: the program exited with code 1`));
    expect(result.failures[2]).toContain(`${file}:19`);
    expect(result.failures[2]).toContain('nothing to show');
    expect(result.failures[3]).toMatch(new RegExp(`^${file}:23: the block differs from ${dir}/example.ts`));
  });
});
