import { spawnSync } from 'node:child_process';
import { chmod, lstat, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditLog } from '../../src/audit/verify.ts';
import { run as agents } from '../../src/cli/agents.ts';
import { run as keys } from '../../src/cli/keys.ts';
import { memoryStore } from '../../src/store/memory.ts';
import { deleteKeys, newClient, REDIS_URL, redisSkipReason, uniquePrefix } from '../store/redis-env.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { stdout: (line: string) => out.push(line), stderr: (line: string) => err.push(line) },
  };
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'toolgate-cli-identity-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('toolgate keys', () => {
  it('generates (0600, never over a file), rotates, retires and prints the public JWK Set', async () => {
    const file = join(dir, 'keys.json');
    const c = capture();
    expect(await keys(['generate', '--out', file, '--kid', 'k1'], c.io)).toBe(0);
    expect(c.out[0]).toBe(`generated signing key k1 in ${file} (mode 0600)`);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(file, 'utf8')).keys[0]).toHaveProperty('d');
    expect(await keys(['generate', '--out', file], c.io)).toBe(1);
    expect(c.err.at(-1)).toMatch(/exists; refusing to overwrite/);

    expect(await keys(['rotate', '--keys', file, '--kid', 'k2'], c.io)).toBe(0);
    expect(c.out.at(-1)).toBe('signing key is now k2; k1 still verifies until retired');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await keys(['jwks', '--keys', file], c.io)).toBe(0);
    const jwks = JSON.parse(c.out.at(-1)!);
    expect(jwks.keys.map((key: { kid: string }) => key.kid)).toEqual(['k2', 'k1']);
    expect(c.out.at(-1)).not.toContain('"d"');
    expect(await keys(['retire', 'k2', '--keys', file], c.io)).toBe(1);
    expect(c.err.at(-1)).toMatch(/rotate before retiring/);
    expect(await keys(['retire', 'k1', '--keys', file], c.io)).toBe(0);
    expect(await keys(['retire', 'k1', '--keys', file], c.io)).toBe(1);

    await chmod(file, 0o644);
    expect(await keys(['jwks', '--keys', file], c.io)).toBe(3);
    expect(c.err.at(-1)).toMatch(/chmod 600/);
    expect(await keys(['rotate'], c.io)).toBe(2);
    expect(await keys(['generate', '--out', join(dir, 'x.json'), '--bogus'], c.io)).toBe(2);
  });

  it('rotates and retires the file a symlinked --keys path leads to, and keeps the link', async () => {
    const file = join(dir, 'real-keys.json');
    const link = join(dir, 'keys-link.json');
    const c = capture();
    expect(await keys(['generate', '--out', file, '--kid', 'k1'], c.io)).toBe(0);
    await symlink(file, link);
    expect(await keys(['rotate', '--keys', link, '--kid', 'k2'], c.io)).toBe(0);
    expect(await keys(['retire', 'k1', '--keys', link], c.io)).toBe(0);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    const kids = (text: string) => JSON.parse(text).keys.map((key: { kid: string }) => key.kid);
    // Every reader of either path sees k1 gone.
    expect(kids(await readFile(file, 'utf8'))).toEqual(['k2']);
    expect(kids(await readFile(link, 'utf8'))).toEqual(['k2']);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });
});

describe('toolgate agents', () => {
  it('registers, lists, suspends, resumes and revokes, recording each change', async () => {
    const store = memoryStore();
    const audit = join(dir, 'agents.jsonl');
    const now = () => Date.UTC(2026, 0, 5, 12);
    const c = capture();
    const cmd = (...argv: string[]) => agents([...argv, '--audit', audit], { ...c.io, store, now });
    expect(
      await cmd(
        'register',
        'support-bot',
        '--owner',
        'team:support',
        '--tools',
        'db.*,payments.refund',
        '--principals',
        'user:*',
        '--max-ttl',
        '1h',
      ),
    ).toBe(0);
    expect(c.out.at(-1)).toBe(
      'registered support-bot  [active]  owner=team:support  tools=db.*,payments.refund  principals=user:*  maxTtl=3600s  revision=1',
    );
    expect(await cmd('suspend', 'support-bot', '--reason', 'incident 7', '--for', '1h')).toBe(0);
    expect(c.out.at(-1)).toMatch(/\[suspended until 2026-01-05T13:00:00.000Z\].*reason="incident 7"/);
    expect(await cmd('list')).toBe(0);
    expect(c.out.at(-1)).toMatch(/^support-bot {2}\[suspended until/);
    expect(await cmd('resume', 'support-bot')).toBe(0);
    expect(await cmd('revoke-credential', 'some-jti')).toBe(0);
    expect(c.out.at(-1)).toMatch(/revoked credential some-jti \(not issued through this registry/);
    expect(await cmd('revoke', 'support-bot', '--reason', 'retired')).toBe(0);
    expect(await cmd('resume', 'ghost')).toBe(1);
    expect(c.err.at(-1)).toBe('toolgate agents resume: UNKNOWN_AGENT: agent "ghost" is not registered');
    expect(await agents(['list', '--json'], { ...c.io, store, now })).toBe(0);
    expect(JSON.parse(c.out.at(-1)!)[0]).toMatchObject({
      agent: 'support-bot',
      status: 'revoked',
      reason: 'retired',
    });
    expect(await verifyAuditLog(audit)).toMatchObject({ ok: true, events: 5 });
  });

  it('says in one line what is missing: usage, store, a Redis that does not answer', async () => {
    const c = capture();
    expect(await agents(['suspend'], c.io)).toBe(2);
    expect(await agents(['frob'], c.io)).toBe(2);
    expect(await agents(['register', 'a'], { ...c.io, store: memoryStore() })).toBe(2);
    expect(c.err.at(-1)).toMatch(/register needs --owner/);
    expect(await agents(['list'], { ...c.io, env: {} })).toBe(2);
    expect(c.err.at(-1)).toBe(
      'toolgate agents: give --store redis://host:6379 (or TOOLGATE_STORE): the registry lives in a shared store',
    );
    expect(await agents(['list', '--store', 'http://x'], c.io)).toBe(2);
    expect(c.err.at(-1)).toMatch(
      /^toolgate agents: a Redis URL starts with redis:\/\/ or rediss:\/\/, got "http:\/\/x"\nusage:/,
    );
    // ioredis not installed (exit 5): test/cli/failure-contract.test.ts, in a process that lacks it.
    expect(await agents(['list', '--store', 'redis://:hunter2@127.0.0.1:1'], c.io)).toBe(4);
    expect(c.err.at(-1)).toBe(
      'toolgate agents list: cannot reach Redis at redis://:***@127.0.0.1:1: connect ECONNREFUSED 127.0.0.1:1',
    );
    expect(c.err.every((line) => !line.includes('\n    at '))).toBe(true);
  });
});

const skip = await redisSkipReason();
describe.skipIf(skip !== undefined)('toolgate agents against Redis, through the toolgate command', () => {
  const prefix = uniquePrefix('cli-agents');
  afterAll(async () => {
    const client = newClient();
    await deleteKeys(client, prefix);
    await client.quit();
  });
  it('a registration made by one command is listed by the next', async () => {
    const main = join(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
    const cli = (...args: string[]) =>
      spawnSync(
        process.execPath,
        ['--import', 'tsx', main, 'agents', ...args, '--store', REDIS_URL, '--prefix', prefix],
        {
          encoding: 'utf8',
          timeout: 60_000,
        },
      );
    const registered = cli(
      'register',
      'report-bot',
      '--owner',
      'team:data',
      '--tools',
      'db.query',
      '--principals',
      'team:*',
      '--max-ttl',
      '10m',
    );
    expect(registered.stderr).toBe('');
    expect(registered.status).toBe(0);
    const suspended = cli('suspend', 'report-bot');
    expect(suspended.status).toBe(0);
    const listed = cli('list');
    expect(listed.stdout).toMatch(/^report-bot {2}\[suspended\]/);
  });
});
