import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/failures.ts';
import { main } from '../../src/cli/main.ts';
import { captureConsole } from '../audit/helpers.ts';

describe('the CLI exit codes', () => {
  it('docs/cli.md documents exactly the codes the commands use', () => {
    const docs = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'cli.md'), 'utf8');
    const table = /<!-- exit-codes[^>]*-->([\s\S]*?)<!-- \/exit-codes -->/.exec(docs)?.[1] ?? '';
    const documented = [...table.matchAll(/^\| (\d+) \|/gm)].map((match) => Number(match[1]));
    expect(documented).toEqual(Object.values(EXIT).sort((a, b) => a - b));
  });

  it('toolgate --help lists them too', async () => {
    const io = captureConsole();
    expect(await main(['--help'])).toBe(0);
    for (const code of Object.values(EXIT)) expect(io.out.join('\n')).toMatch(new RegExp(`\\b${code} [a-z]`));
  });

  it('an unknown command, even a name on Object.prototype, is a usage error', async () => {
    captureConsole();
    expect(await main(['constructor'])).toBe(2);
    expect(await main(['__proto__'])).toBe(2);
  });
});
