import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadPolicy, parsePolicy } from '../../src/index.ts';

// A YAML policy nested deeper than any policy can be is refused before the YAML parser builds it.
// Before, 'rules: ' + '['.repeat(n) … took the parser ~40 µs a level and ~1 KB of memory (1,000,000
// levels in a 2 MB file: 43 s and 1.2 GB) before it failed on its stack; at the 10 MiB cap, minutes
// and an out-of-memory abort of the process (a watched policy file reloading it too).

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function file(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-yaml-depth-'));
  dirs.push(dir);
  const path = join(dir, 'policy.yaml');
  writeFileSync(path, text);
  return path;
}

describe('policy files: nesting', () => {
  it.each([
    ['flow lists', (n: number) => `rules: ${'['.repeat(n)}${']'.repeat(n)}\n`],
    ['flow mappings', (n: number) => `rules: [${'{a: '.repeat(n)}1${'}'.repeat(n)}]\n`],
  ])('%s nested 200,000 deep are refused as nested too deeply', async (_name, make) => {
    await expect(loadPolicy(file(make(200_000)))).rejects.toThrow(/nested deeper than 64/);
  });

  it('a JSON document nested 5,000,000 deep is refused before JSON.parse builds it', async () => {
    const n = 5_000_000;
    expect(() => parsePolicy(`{"rules":${'['.repeat(n)}${']'.repeat(n)}}`)).toThrow(/nested deeper than 64/);
    expect(() => parsePolicy(`{"rules":[],"description":"${'['.repeat(100)}"}`)).not.toThrow();
  });

  it('brackets inside quoted strings and comments do not count', async () => {
    const pattern = '['.repeat(100);
    const text = `# ${'{'.repeat(100)}\nrules:\n  - id: a\n    effect: allow\n    tool: x\n    reason: '${pattern}'\n    when: { all: [ { args.a: { eq: "${'{'.repeat(100)}" } } ] }\n`;
    const policy = await loadPolicy(file(text));
    expect(policy.version).toMatch(/^[0-9a-f]+$/);
  });
});
