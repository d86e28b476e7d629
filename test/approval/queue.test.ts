import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalQueue, queueApprover } from '../../src/approval/queue.ts';
import { redisStore } from '../../src/backends/redis/index.ts';
import { run } from '../../src/cli/approvals.ts';
import { ConfigurationError, memoryStore, type StateStore } from '../../src/index.ts';
import { newClient, REDIS_URL, redisSkipReason } from '../store/redis-env.ts';
import { ask, engine, setup, spy } from './helpers.ts';

const SECRET = 'queue-secret-that-is-at-least-32-bytes';
const ROOT = join(import.meta.dirname, '..', '..');

function guardOn(store: StateStore, approval?: Parameters<typeof ask>[0]) {
  const approver = queueApprover({ store, secret: SECRET, pollMs: 50 });
  const { tg, audit } = setup({ policy: engine(() => ask(approval)), approver, store });
  const tool = spy();
  return { tg, audit, tool, call: tg.guard(tool.fn, { name: 'db.drop' }) };
}

async function pendingOne(queue: ReturnType<typeof approvalQueue>, count = 1) {
  for (;;) {
    const list = await queue.list();
    if (list.length >= count) return list;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('queueApprover (memory store)', () => {
  it('refuses to exist without a key', () => {
    expect(() => queueApprover({ store: memoryStore(), secret: undefined as never })).toThrow(
      ConfigurationError,
    );
    expect(() => approvalQueue({ store: memoryStore(), secret: 'short' })).toThrow(ConfigurationError);
  });

  it('lists pending approvals and wakes the call when answered', async () => {
    const store = memoryStore();
    const { call, tool } = guardOn(store);
    const queue = approvalQueue({ store, secret: SECRET });
    const pending = call({ table: 'orders' }, { context: { principal: 'user:42' } });
    const [entry] = await pendingOne(queue);
    expect(entry!.request).toMatchObject({
      tool: 'db.drop',
      args: { table: 'orders' },
      context: { principal: 'user:42' },
    });
    await queue.resolve(entry!.id, { approved: true, approver: 'user:7' });
    await expect(pending).resolves.toBe('ran');
    expect(tool.calls).toHaveLength(1);
    expect(await queue.list()).toEqual([]);
    await expect(queue.resolve(entry!.id, { approved: true, approver: 'user:7' })).rejects.toThrow(
      /no pending/,
    );
  });

  it('first answer wins; a wrong approver is refused and the request stays open', async () => {
    const store = memoryStore();
    const { call, tool } = guardOn(store, { separationOfDuties: true, approvers: ['ops:*'] });
    const queue = approvalQueue({ store, secret: SECRET });
    const pending = call({}, { context: { principal: 'ops:self' } });
    const [entry] = await pendingOne(queue);
    await expect(queue.resolve(entry!.id, { approved: true, approver: 'ops:self' })).rejects.toThrow(
      /own call/,
    );
    await expect(queue.resolve(entry!.id, { approved: true, approver: 'sales:x' })).rejects.toThrow(
      /not among/,
    );
    await expect(queue.resolve(entry!.id, { approved: 'yes' } as never)).rejects.toThrow(/invalid answer/);
    await queue.resolve(entry!.id, { approved: false, approver: 'ops:ann', reason: 'not now' });
    await expect(queue.resolve(entry!.id, { approved: true, approver: 'ops:bob' })).rejects.toThrow();
    await expect(pending).resolves.toMatchObject({ code: 'APPROVAL_DENIED' });
    expect(tool.calls).toHaveLength(0);
  });

  it('a denial from someone the approvers globs do not name is refused; the request stays open', async () => {
    const store = memoryStore();
    const { call, tool } = guardOn(store, { approvers: ['finance:*'] });
    const queue = approvalQueue({ store, secret: SECRET });
    const pending = call({}, { context: { principal: 'user:carl' } });
    const [entry] = await pendingOne(queue);
    await expect(
      queue.resolve(entry!.id, { approved: false, approver: 'support:eve', reason: 'no' }),
    ).rejects.toThrow(/not among/);
    expect(await queue.get(entry!.id)).toBeDefined();
    await queue.resolve(entry!.id, { approved: true, approver: 'finance:alice' });
    await expect(pending).resolves.toBe('ran');
    expect(tool.calls).toHaveLength(1);
  });

  it('a quorum is collected from distinct approvers over the queue', async () => {
    const store = memoryStore();
    const { call, audit } = guardOn(store, { quorum: 2 });
    const queue = approvalQueue({ store, secret: SECRET });
    const pending = call({});
    const [first] = await pendingOne(queue);
    await queue.resolve(first!.id, { approved: true, approver: 'ann' });
    let second = (await queue.list())[0];
    while (second?.request.approvedBy === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      second = (await queue.list())[0];
    }
    expect(second.request.approvedBy).toEqual(['ann']);
    await expect(queue.resolve(second.id, { approved: true, approver: 'ann' })).rejects.toThrow(
      /already approved/,
    );
    await queue.resolve(second.id, { approved: true, approver: 'bob' });
    await expect(pending).resolves.toBe('ran');
    expect(audit.events.find((e) => e.type === 'decision')).toMatchObject({ approvers: ['ann', 'bob'] });
  });

  it('forged pending requests are not listed and forged answers are ignored', async () => {
    const store = memoryStore();
    const { call, tool } = guardOn(store, { timeout: 2_000 });
    const queue = approvalQueue({ store, secret: SECRET });
    await store.put('approvals', 'forged', { token: 'tg1.request.e30.AAAA' }, { now: Date.now() });
    const pending = call({});
    const [entry] = await pendingOne(queue);
    expect((await queue.list()).map((e) => e.id)).toEqual([entry!.id]);
    const other = approvalQueue({ store, secret: 'another-secret-that-is-32-bytes-long!!' });
    expect(await other.list()).toEqual([]);
    // An answer signed with the wrong key, written straight into the store.
    await store.put('approval-answers', entry!.id, { token: 'tg1.response.e30.AAAA' }, { now: Date.now() });
    await store.notify(`approval:${entry!.id}`, 'x');
    await expect(pending).resolves.toMatchObject({ code: 'APPROVAL_TIMEOUT' });
    expect(tool.calls).toHaveLength(0);
    // Once settled, the request disappears and cannot be answered.
    expect(await queue.list()).toEqual([]);
  });
});

describe('toolgate approvals (CLI, in process)', () => {
  it('lists, approves and denies', async () => {
    const store = memoryStore();
    const { call } = guardOn(store);
    const lines: string[] = [];
    const errors: string[] = [];
    const io = {
      store,
      secret: SECRET,
      stdout: (l: string) => lines.push(l),
      stderr: (l: string) => errors.push(l),
    };
    expect(await run(['list'], io)).toBe(0);
    expect(lines).toEqual(['no pending approvals']);
    const first = call({ table: 'orders' }, { context: { agent: 'bot', principal: 'user:42' } });
    const [entry] = await pendingOne(approvalQueue({ store, secret: SECRET }));
    lines.length = 0;
    expect(await run(['list'], io)).toBe(0);
    expect(lines[0]).toContain(entry!.id);
    expect(lines.join('\n')).toContain('db.drop');
    expect(lines.join('\n')).toContain('"table":"orders"');
    expect(await run(['deny', entry!.id], io)).toBe(2);
    expect(await run(['approve', 'nope', '--as', 'user:7'], io)).toBe(1);
    expect(await run(['approve', entry!.id, '--as', 'user:7'], io)).toBe(0);
    await expect(first).resolves.toBe('ran');
    const second = call({});
    const [next] = await pendingOne(approvalQueue({ store, secret: SECRET }));
    expect(await run(['deny', next!.id, '--reason', 'no way', '--as', 'user:7'], io)).toBe(0);
    await expect(second).resolves.toMatchObject({
      code: 'APPROVAL_DENIED',
      reason: expect.stringContaining('no way'),
    });
    expect(await run(['bogus'], io)).toBe(2);
    expect(await run(['approve', '-dash-id', '--as', 'u'], io)).toBe(1); // ids may start with '-'
    expect(await run(['list'], { store, stdout: io.stdout, stderr: io.stderr, env: {} })).toBe(2);
  });
});

const redisSkip = await redisSkipReason();

describe.skipIf(redisSkip !== undefined)('two real processes over Redis', () => {
  const prefix = `tg-approvals-test:${process.pid}:${Date.now()}:`;
  let client: Redis;
  let store: StateStore;

  beforeAll(() => {
    client = newClient();
    store = redisStore({ client, prefix });
  });

  afterAll(async () => {
    const keys = await client.keys(`${prefix}*`);
    if (keys.length > 0) await client.del(...keys);
    await store.close?.();
    client.disconnect();
  });

  const cli = (args: string[]) =>
    promisify(execFile)(
      process.execPath,
      [
        '--import',
        'tsx',
        join(ROOT, 'src/cli/main.ts'),
        'approvals',
        ...args,
        '--redis',
        REDIS_URL,
        '--prefix',
        prefix,
      ],
      { cwd: ROOT, env: { ...process.env, TOOLGATE_APPROVAL_SECRET: SECRET }, timeout: 30_000 },
    );

  it('a separate process lists and approves; the waiting call wakes', { timeout: 90_000 }, async () => {
    const { call, tool } = guardOn(store, { timeout: 60_000 });
    const pending = call({ table: 'orders' }, { context: { principal: 'user:42' } });
    const [entry] = await pendingOne(approvalQueue({ store, secret: SECRET }));
    const listed = await cli(['list']);
    expect(listed.stdout).toContain(entry!.id);
    expect(listed.stdout).toContain('db.drop');
    const approved = await cli(['approve', entry!.id, '--as', 'user:7']);
    expect(approved.stdout).toContain(`approved ${entry!.id} as user:7`);
    await expect(pending).resolves.toBe('ran');
    expect(tool.calls).toEqual([{ table: 'orders' }]);
    // The same answer cannot be given twice.
    await expect(cli(['approve', entry!.id, '--as', 'user:8'])).rejects.toMatchObject({ code: 1 });
  });
});
