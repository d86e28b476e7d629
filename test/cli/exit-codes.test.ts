import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { closeAll, EXIT } from '../../src/cli/failures.ts';
import { main } from '../../src/cli/main.ts';
import { GuardError } from '../../src/index.ts';
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

describe('closing at the end of a long-running command (mcp-proxy, console)', () => {
  it('runs every closer, prints each failure, and answers false so the command exits 1', async () => {
    const { err } = captureConsole();
    const closed: string[] = [];
    const clean = await closeAll('toolgate x', [
      async () => {
        closed.push('guard');
        throw new GuardError({
          code: 'AUDIT_UNAVAILABLE',
          message: 'toolgate: close incomplete, audit records may be missing: disk full',
        });
      },
      async () => {
        closed.push('store');
      },
    ]);
    expect(clean).toBe(false);
    expect(closed).toEqual(['guard', 'store']);
    expect(err).toEqual([
      'toolgate x: while closing: close incomplete, audit records may be missing: disk full',
    ]);
    expect(await closeAll('toolgate x', [async () => {}])).toBe(true);
  });
});
