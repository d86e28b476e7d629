import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, expect, test, vi } from 'vitest';
import { run } from '../../../src/cli/mcp-proxy.ts';

const dir = mkdtempSync(join(tmpdir(), 'toolgate-mcp-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function runQuietly(argv: string[]) {
  const errors: string[] = [];
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => {
    errors.push(args.map(String).join(' '));
  });
  const code = await run(argv);
  return { code, stderr: errors.join('\n') };
}

test('usage errors exit 2 before anything is started', async () => {
  const policy = join(dir, 'ok.json');
  writeFileSync(policy, JSON.stringify({ rules: [{ id: 'a', effect: 'allow', tool: 'x.y' }] }));
  expect((await runQuietly(['--policy', policy])).code).toBe(2);
  expect((await runQuietly(['--', 'node'])).stderr).toContain('--policy and a server command');
  expect((await runQuietly(['--policy', policy, '--bogus', '--', 'node'])).code).toBe(2);
  expect((await runQuietly(['--policy', policy, '--approve', 'yes', '--', 'node'])).stderr).toContain(
    "--approve must be 'elicit', 'queue' or 'deny'",
  );
  expect((await runQuietly(['--help'])).code).toBe(0);
  expect((await runQuietly(['--policy', policy, '--name', 'two words', '--', 'node'])).stderr).toContain(
    'is not usable',
  );
});

test('an invalid policy or pin file exits 3 with a message naming the problem', async () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify({ rules: [{ id: 'oops', effect: 'allow', tool: 'x', colour: 'red' }] }));
  const policy = await runQuietly(['--policy', bad, '--', 'node']);
  expect(policy.code).toBe(3);
  expect(policy.stderr).toMatch(/oops/);
  const good = join(dir, 'good.yaml');
  writeFileSync(good, 'rules:\n  - id: a\n    effect: allow\n    tool: x.y\n');
  const pins = join(dir, 'pins.json');
  writeFileSync(pins, JSON.stringify({ version: 1, servers: { s: { t: 'not-a-hash' } } }));
  const pinned = await runQuietly(['--policy', good, '--pins', pins, '--', 'node']);
  expect(pinned.code).toBe(3);
  expect(pinned.stderr).toContain('s.t must be a SHA-256 hex string');
});
