import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { run as audit } from '../../src/cli/audit.ts';
import { run as policy } from '../../src/cli/policy.ts';
import { loadPolicy } from '../../src/index.ts';
import { captureConsole } from '../audit/helpers.ts';
import { rotatedLog } from '../audit/helpers-rotated.ts';
import { policyFile } from './policy-files.ts';

// Files given by path are read with a bound: a device that never ends (/dev/zero) or a file far
// larger than any policy, anchor, key or JSON input is refused as an input (exit 3), never read
// whole into memory (before: 14 s, 650 MB and exit 6 "unexpected error" for `policy check /dev/zero`).

afterEach(() => {
  vi.restoreAllMocks();
});

async function exitOf(run: (argv: string[]) => Promise<number>, argv: string[]) {
  const io = captureConsole();
  try {
    return { exit: await run(argv), err: io.err.join('\n') };
  } finally {
    vi.restoreAllMocks();
  }
}

describe.runIf(existsSync('/dev/zero'))('a file that never ends', () => {
  const p = policyFile('bounded.json', { rules: [{ id: 'a', effect: 'allow', tool: 'x' }] });

  it.each([
    ['policy check', ['check', '/dev/zero']],
    ['policy explain', ['explain', '/dev/zero', '--tool', 'x']],
    ['policy test (cases)', ['test', p, '/dev/zero']],
  ])('%s: exit 3 with one line', async (_name, argv) => {
    const { exit, err } = await exitOf(policy, argv);
    expect(exit).toBe(3);
    expect(err).toMatch(/\/dev\/zero.*larger than/);
    expect(err).not.toMatch(/unexpected/);
  });

  it('audit verify --anchor and --key: exit 3', async () => {
    const log = await rotatedLog(10, 1_000_000);
    for (const flags of [
      ['--anchor', '/dev/zero'],
      ['--key', 'k1=/dev/zero'],
    ]) {
      const { exit, err } = await exitOf(audit, ['verify', log.path, ...flags]);
      expect(exit, err).toBe(3);
      expect(err).toMatch(/\/dev\/zero.*larger than/);
    }
  });

  it('loadPolicy rejects with a ConfigurationError', async () => {
    await expect(loadPolicy('/dev/zero')).rejects.toThrow(/larger than 10 MiB/);
    await expect(loadPolicy(join('/dev', 'zero'), { format: 'yaml' })).rejects.toThrow(/larger than 10 MiB/);
  });
});
