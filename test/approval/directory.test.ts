import { type ChildProcess, execFile, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { approvalDirectory } from '../../src/approval/directory.ts';
import { approvalQueue, queueApprover } from '../../src/approval/queue.ts';
import { ConfigurationError } from '../../src/index.ts';
import { ask, engine, setup, spy } from './helpers.ts';

const SECRET = 'directory-secret-that-is-at-least-32-bytes';
const ROOT = join(import.meta.dirname, '..', '..');
const FIXTURES = join(import.meta.dirname, 'fixtures');

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-approvals-'));
  dirs.push(dir);
  return dir;
}

async function pendingOne(queue: ReturnType<typeof approvalQueue>) {
  for (;;) {
    const list = await queue.list();
    if (list.length > 0) return list;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Every file and directory under `dir`, with its mode. */
function modes(dir: string): { path: string; mode: number; directory: boolean }[] {
  const found: { path: string; mode: number; directory: boolean }[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const info = statSync(path);
    found.push({ path, mode: info.mode & 0o777, directory: info.isDirectory() });
    if (info.isDirectory()) found.push(...modes(path));
  }
  return found;
}

describe('approvalDirectory', () => {
  it('keeps the queue private: directory 0700, files 0600, whatever the umask', async () => {
    const dir = join(tempDir(), 'approvals');
    const umask = process.umask(0o000);
    try {
      const store = approvalDirectory({ dir });
      const { tg } = setup({
        policy: engine(() => ask()),
        approver: queueApprover({ store, secret: SECRET, pollMs: 50 }),
      });
      const tool = spy();
      const pending = tg.guard(tool.fn, { name: 'db.drop' })({ table: 'orders' });
      const queue = approvalQueue({ store, secret: SECRET });
      const [entry] = await pendingOne(queue);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
      const entries = modes(dir);
      expect(entries.some((entry) => !entry.directory)).toBe(true);
      for (const entry of entries)
        expect([entry.path, entry.mode]).toEqual([entry.path, entry.directory ? 0o700 : 0o600]);
      await queue.resolve(entry!.id, { approved: true, approver: 'user:7' });
      await expect(pending).resolves.toBe('ran');
      await store.close();
    } finally {
      process.umask(umask);
    }
  });

  it('refuses a directory others can reach, another user owns, a file, or a missing one with create: false', () => {
    const base = tempDir();
    const open = join(base, 'open');
    mkdirSync(open, { mode: 0o755 });
    chmodSync(open, 0o755);
    expect(() => approvalDirectory({ dir: open })).toThrow(/open to other users \(mode 755\); run chmod 700/);
    const file = join(base, 'file');
    writeFileSync(file, '');
    expect(() => approvalDirectory({ dir: file })).toThrow(ConfigurationError);
    expect(() => approvalDirectory({ dir: join(base, 'missing'), create: false })).toThrow(/does not exist/);
    expect(() => approvalDirectory({ dir: '' })).toThrow(ConfigurationError);
    if (process.getuid?.() === 0) {
      const theirs = join(base, 'theirs');
      mkdirSync(theirs, { mode: 0o700 });
      chownSync(theirs, 4321, 4321);
      expect(() => approvalDirectory({ dir: theirs })).toThrow(/belongs to another user/);
    }
  });

  it('serves queueApprover and approvalQueue: approve, deny, and forged files are ignored', async () => {
    const dir = tempDir();
    const store = approvalDirectory({ dir });
    // onPending fires once the request is listed, so whoever is told can answer at once.
    const listedWhenTold: Promise<boolean>[] = [];
    const { tg } = setup({
      policy: engine(() => ask({ timeout: 1_500 })),
      approver: queueApprover({
        store,
        secret: SECRET,
        pollMs: 50,
        onPending: (request) =>
          listedWhenTold.push(queue.list().then((list) => list.some((entry) => entry.id === request.id))),
      }),
    });
    const tool = spy();
    const call = tg.guard(tool.fn, { name: 'db.drop' });
    const queue = approvalQueue({ store, secret: SECRET });

    const approved = call({ n: 1 });
    const [first] = await pendingOne(queue);
    await queue.resolve(first!.id, { approved: true, approver: 'user:7' });
    await expect(approved).resolves.toBe('ran');
    await expect(queue.resolve(first!.id, { approved: true, approver: 'user:7' })).rejects.toThrow(
      /no pending/,
    );

    const denied = call({ n: 2 });
    const [second] = await pendingOne(queue);
    await queue.resolve(second!.id, { approved: false, approver: 'user:7', reason: 'no' });
    await expect(denied).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });

    // Anyone who can write a file but lacks the secret is ignored, both as request and as answer.
    const forged = call({ n: 3 });
    const [third] = await pendingOne(queue);
    await store.put('approvals', 'forged', { token: 'tg1.request.e30.AAAA' }, { now: Date.now() });
    expect((await queue.list()).map((entry) => entry.id)).toEqual([third!.id]);
    await store.put('approval-answers', third!.id, { token: 'tg1.response.e30.AAAA' }, { now: Date.now() });
    await store.notify(`approval:${third!.id}`, 'x');
    await expect(forged).resolves.toMatchObject({ code: 'APPROVAL_TIMEOUT' });
    expect(tool.calls).toEqual([{ n: 1 }]);
    expect(await Promise.all(listedWhenTold)).toEqual([true, true, true]);
    await store.close();
  });

  it('claims are single-use and records expire', async () => {
    const store = approvalDirectory({ dir: tempDir() });
    const now = Date.now();
    const claims = await Promise.all(
      Array.from({ length: 20 }, () => store.claim('k', { now, ttlMs: 60_000 })),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    await store.put('c', 'a', { x: 1 }, { now, ttlMs: 1_000 });
    await store.put('c', 'b', { x: 2 }, { now });
    expect(await store.get('c', 'a', now)).toMatchObject({ id: 'a', value: { x: 1 } });
    expect(await store.get('c', 'a', now + 1_000)).toBeUndefined();
    expect((await store.list('c', now + 1_000)).map((record) => record.id)).toEqual(['b']);
    expect(await store.delete('c', 'b')).toBe(true);
    expect(await store.delete('c', 'b')).toBe(false);
    // Any string is an id, including path tricks.
    await store.put('c', '../../etc/passwd', { x: 3 }, { now });
    expect(await store.get('c', '../../etc/passwd', now)).toMatchObject({ value: { x: 3 } });
    await store.close();
  });

  it('many guards and answerers in real processes: every call is answered once and runs once', {
    timeout: 120_000,
  }, async () => {
    const dir = tempDir();
    approvalDirectory({ dir });
    const env = { ...process.env, APPROVAL_DIR: dir, TOOLGATE_APPROVAL_SECRET: SECRET };
    const guards = [1, 2, 3].map(() => child(join(FIXTURES, 'directory-guard.ts'), { ...env, CALLS: '3' }));
    const answerers = [1, 2, 3].map(() =>
      child(join(FIXTURES, 'directory-answerer.ts'), { ...env, TOTAL: '9' }),
    );
    const guardOut = await Promise.all(guards.map((process) => process.done));
    const answererOut = await Promise.all(answerers.map((process) => process.done));
    for (const out of guardOut) {
      expect(out.match(/^RESULT "ran .*"$/gm)).toHaveLength(3);
      expect(out).toContain('RUNS 3');
    }
    const won = answererOut.flatMap((out) => out.match(/^WON .*$/gm) ?? []);
    expect(won).toHaveLength(9);
    expect(new Set(won).size).toBe(9);
  });

  it('toolgate approvals list | approve | deny --dir, as real processes', { timeout: 90_000 }, async () => {
    const dir = tempDir();
    const store = approvalDirectory({ dir });
    const { tg } = setup({
      policy: engine(() => ask()),
      approver: queueApprover({ store, secret: SECRET, pollMs: 50 }),
    });
    const call = tg.guard(spy().fn, { name: 'db.drop' });
    const cli = (args: string[]) =>
      promisify(execFile)(
        process.execPath,
        ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'approvals', ...args, '--dir', dir],
        { cwd: ROOT, env: { ...process.env, TOOLGATE_APPROVAL_SECRET: SECRET }, timeout: 30_000 },
      );
    const first = call({ table: 'orders' }, { context: { principal: 'user:42' } });
    const [entry] = await pendingOne(approvalQueue({ store, secret: SECRET }));
    const listed = await cli(['list']);
    expect(listed.stdout).toContain(entry!.id);
    expect(listed.stdout).toContain('db.drop');
    expect((await cli(['approve', entry!.id, '--as', 'user:7'])).stdout).toContain(`approved ${entry!.id}`);
    await expect(first).resolves.toBe('ran');
    await expect(cli(['approve', entry!.id, '--as', 'user:8'])).rejects.toMatchObject({ code: 1 });
    const second = call({ table: 'users' });
    const [next] = await pendingOne(approvalQueue({ store, secret: SECRET }));
    await cli(['deny', next!.id, '--reason', 'not today', '--as', 'user:7']);
    await expect(second).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
    await store.close();
  });
});

function child(script: string, env: NodeJS.ProcessEnv): { process: ChildProcess; done: Promise<string> } {
  const spawned = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  spawned.stdout!.on('data', (chunk: Buffer) => {
    out += chunk.toString('utf8');
  });
  spawned.stderr!.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const done = new Promise<string>((resolve, reject) => {
    spawned.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${script} exited ${code}: ${err}`)),
    );
  });
  return { process: spawned, done };
}
