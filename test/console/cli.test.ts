import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { ROOT } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'tg-console-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('toolgate console serves on loopback, signs in from an accounts file, and stops on SIGTERM', async () => {
  const accounts = join(dir, 'accounts.json');
  writeFileSync(accounts, JSON.stringify([{ name: 'ops', role: 'admin', token: 'cli-token-0123456789' }]));
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      join(ROOT, 'src', 'cli', 'main.ts'),
      'console',
      '--store',
      'memory',
      '--accounts',
      accounts,
      '--actions',
      join(dir, 'actions.jsonl'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (match !== null) resolve(match[1]!);
    });
    child.on('exit', () => reject(new Error(`exited early: ${out}`)));
  });
  const page = await fetch(url);
  expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  const signIn = await fetch(`${url}api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'name=ops&password=cli-token-0123456789',
  });
  expect(signIn.status).toBe(200);
  expect(signIn.headers.get('set-cookie')).toContain('HttpOnly; SameSite=Strict');
  child.kill('SIGTERM');
  expect(await exited).toBe(0);
});

it('toolgate console without --store or --accounts is a usage error', async () => {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'src', 'cli', 'main.ts'), 'console', '--store', 'memory'],
    {
      stdio: 'ignore',
    },
  );
  expect(await new Promise((resolve) => child.on('exit', resolve))).toBe(2);
});

it('serveConsole accepts changes from its own loopback names only (DNS rebinding is refused)', async () => {
  const { request } = await import('node:http');
  const { memoryStore } = await import('../../src/index.ts');
  const { serveConsole } = await import('../../src/console/index.ts');
  const server = await serveConsole({
    store: memoryStore(),
    accounts: [{ name: 'ops', role: 'admin', token: 'cli-token-0123456789' }],
    actionAudit: [],
  });
  const port = new URL(server.url).port;
  const post = (host: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port,
          path: '/api/session',
          method: 'POST',
          headers: { host, origin: `http://${host}`, 'content-type': 'application/json' },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end(JSON.stringify({ name: 'ops', password: 'cli-token-0123456789' }));
    });
  try {
    expect(await post(`127.0.0.1:${port}`)).toBe(200);
    expect(await post(`localhost:${port}`)).toBe(200);
    expect(await post(`rebound.example:${port}`)).toBe(403);
  } finally {
    await server.close();
  }
});
