import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const run = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8', timeout: 60_000 });

describe('toolgate command', () => {
  it('prints usage with --help and exits 0', () => {
    const result = run('--help');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('toolgate policy');
    expect(result.stdout).toContain('toolgate audit');
  });

  it('exits 2 with usage when no command is given', () => {
    const result = run();
    expect(result.status).toBe(2);
    expect(result.stdout).toContain('usage');
  });

  it('exits 2 on an unknown command', () => {
    const result = run('frobnicate');
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown command "frobnicate"');
  });
});
