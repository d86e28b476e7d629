import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(import.meta.dirname, 'fixtures');
const HIDE = join(ROOT, 'test', 'cli', 'fixtures', 'hide-packages.mjs');
const RUNNERS = 'vitest,@vitest/expect,@vitest/runner,jest,@jest/globals,@jest/expect';

function node(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, args, {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, TOOLGATE_TEST_HIDE: RUNNERS, ...env },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('toolgate/testing without vitest', () => {
  it('loads and its fakes work with every test runner unresolvable', () => {
    const result = node(['--import', HIDE, '--import', 'tsx', join(FIXTURES, 'load-without-runner.ts')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('RESULT ran');
    expect(result.stdout).toContain(
      "SUITE toolgate: testStateStore needs your test runner's describe and it: pass { runner: { describe, it } }",
    );
  });

  /** The suites under node:test, with every other runner unresolvable. */
  const suites = (env: Record<string, string> = {}) =>
    node(
      [
        '--import',
        HIDE,
        '--import',
        'tsx',
        '--test',
        '--test-reporter=tap',
        join(FIXTURES, 'node-test-suites.ts'),
      ],
      env,
    );

  it('the conformance suites run under node:test, and pass', () => {
    const result = suites();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const passed = Number(/^# pass (\d+)$/m.exec(result.stdout)?.[1]);
    expect(passed).toBeGreaterThan(30);
    expect(result.stdout).toMatch(/^# fail 0$/m);
  });

  it('under node:test they fail broken implementations', () => {
    const result = suites({ BROKEN: '1' });
    expect(result.code).not.toBe(0);
    const failed = Number(/^# fail (\d+)$/m.exec(result.stdout)?.[1]);
    expect(failed).toBeGreaterThan(3);
    // Each broken part is caught by its own suite.
    for (const suite of [
      'PolicyEngine conformance',
      'AuditSink conformance',
      'StateStore conformance',
      'ApprovalProvider conformance',
    ])
      expect(result.stdout).toMatch(new RegExp(`not ok \\d+ - ${suite}`));
  });
});
