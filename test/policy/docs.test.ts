import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, expect, test } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
const page = readFileSync(join(root, 'docs', 'policies.md'), 'utf8');
const blocks = [...page.matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1]!);
const dir = mkdtempSync(join(tmpdir(), 'toolgate-docs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const IMPORTS: Record<string, string> = {
  toolgate: join(root, 'src', 'index.ts'),
  'toolgate/sql': join(root, 'src', 'sql', 'index.ts'),
  'toolgate/cedar': join(root, 'src', 'backends', 'cedar', 'index.ts'),
};

test('docs/policies.md has runnable examples', () => {
  expect(blocks.length).toBeGreaterThanOrEqual(6);
});

test.each(blocks.map((code, index) => [index, code] as const))(
  'docs/policies.md example #%i runs',
  async (index, code) => {
    const source = code.replace(/from '(toolgate(?:\/\w+)?)'/g, (_all, name: string) => {
      const target = IMPORTS[name];
      if (target === undefined) throw new Error(`unknown import ${name}`);
      return `from ${JSON.stringify(pathToFileURL(target).href)}`;
    });
    const file = join(dir, `example-${index}.ts`);
    const assertImport = source.includes("from 'node:assert/strict'")
      ? ''
      : "import assert from 'node:assert/strict';\n";
    writeFileSync(file, `${assertImport}${source}\nexport const done = true;\n`);
    const module = (await import(/* @vite-ignore */ pathToFileURL(file).href)) as { done: boolean };
    expect(module.done).toBe(true);
  },
);
