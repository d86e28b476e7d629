import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/approvals.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const HIDE = join(import.meta.dirname, 'fixtures', 'hide-packages.mjs');
const SECRET = 'approvals-cli-secret-at-least-32-bytes!';
const base = mkdtempSync(join(tmpdir(), 'toolgate-approvals-cli-'));
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** `toolgate approvals …` in a real process; `hide` makes packages unresolvable, as if not installed. */
function approvals(args: string[], options: { hide?: string[]; env?: Record<string, string> } = {}) {
  const result = spawnSync(
    process.execPath,
    [
      ...(options.hide === undefined ? [] : ['--import', HIDE]),
      '--import',
      'tsx',
      MAIN,
      'approvals',
      ...args,
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        ...process.env,
        TOOLGATE_APPROVAL_SECRET: SECRET,
        TOOLGATE_TEST_HIDE: (options.hide ?? []).join(','),
        TOOLGATE_REDIS_URL: '',
        TOOLGATE_APPROVALS_DIR: '',
        ...options.env,
      },
    },
  );
  return { code: result.status, stdout: result.stdout, stderr: result.stderr.trimEnd() };
}

/** `toolgate approvals …` in this process (same code path after start-up, much faster). */
async function approvalsHere(args: string[], env: Record<string, string> = {}) {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const code = await run(args, {
    stdout: (line) => stdout.push(line),
    stderr: (line) => stderr.push(line),
    env: { USER: 'tester', TOOLGATE_APPROVAL_SECRET: SECRET, ...env },
  });
  return { code, stdout: stdout.join('\n'), stderr: stderr.join('\n') };
}

/** A local port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('toolgate approvals fails in one line per cause', () => {
  it('ioredis not installed: says which package to install, exit 5', () => {
    const result = approvals(['list', '--redis', 'redis://127.0.0.1:6379'], { hide: ['ioredis'] });
    expect(result.code).toBe(5);
    expect(result.stderr).toBe(
      'toolgate approvals: the Redis store needs the optional package ioredis, which is not installed: npm install ioredis',
    );
    expect(result.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|\n\s+at /);
  });

  it('Redis down: names the address (never the password), exit 4, none of ioredis noise', async () => {
    const port = await closedPort();
    const result = approvals(['list', '--redis', `redis://:hunter2@127.0.0.1:${port}`]);
    expect(result.code).toBe(4);
    expect(result.stderr.split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^toolgate approvals: cannot reach Redis at redis://:\\*\\*\\*@127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`,
      ),
    );
    expect(result.stderr).not.toContain('hunter2');
    expect(result.stderr).not.toMatch(/Unhandled error event|MaxRetriesPerRequest/);
  });

  it('bad arguments: one line and the usage, exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['frobnicate'], /unknown action "frobnicate"/],
      [['approve'], /approve needs a request id/],
      [['list'], /where is the queue\? give --dir <dir>/],
      [['list', '--dir', base, '--redis', 'redis://x'], /--dir or --redis, not both/],
      [['approve', 'id', '--args', '{nope', '--dir', base], /--args is not valid JSON/],
      [['approve', 'id', '--args', '[1]', '--dir', base], /--args must be a JSON object/],
      [['approve', 'id', '--remember', 'forever', '--dir', base], /--remember takes a duration/],
      [['deny', 'id', '--dir', base], /deny needs --reason/],
      [['list', '--redis', 'localhost:6379'], /a Redis URL starts with redis:\/\//],
      [['list', '--dir', base, '--bogus'], /Unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const result = await approvalsHere(args);
      expect([args, result.code]).toEqual([args, 2]);
      expect(result.stderr.split('\n')[0]).toMatch(message);
    }
    const noSecret = await approvalsHere(['list', '--dir', base], { TOOLGATE_APPROVAL_SECRET: '' });
    expect(noSecret.code).toBe(2);
    expect(noSecret.stderr).toMatch(/set TOOLGATE_APPROVAL_SECRET to the approval secret/);
    const shortSecret = await approvalsHere(['list', '--dir', base], { TOOLGATE_APPROVAL_SECRET: 'short' });
    expect(shortSecret.code).toBe(2);
    expect(shortSecret.stderr).toMatch(/at least 32 bytes/);
  });

  it('an unusable directory: named, exit 3', async () => {
    const missing = await approvalsHere(['list', '--dir', join(base, 'missing')]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toMatch(/^toolgate approvals: approvalDirectory: .*missing does not exist/);
    const open = join(base, 'open');
    mkdirSync(open);
    chmodSync(open, 0o755);
    const exposed = await approvalsHere(['list', '--dir', open]);
    expect(exposed.code).toBe(3);
    expect(exposed.stderr).toMatch(/is open to other users \(mode 755\); run chmod 700/);
  });

  it('an empty queue lists as such, exit 0', () => {
    const dir = join(base, 'queue');
    mkdirSync(dir, { mode: 0o700 });
    const result = approvals(['list', '--dir', dir]);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('no pending approvals');
  });
});
