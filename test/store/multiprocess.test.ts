import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { redisStore } from '../../src/backends/redis/index.ts';
import { createGuard } from '../../src/guard.ts';
import type { Decision } from '../../src/types.ts';
import { deleteKeys, newClient, REDIS_URL, redisSkipReason, uniquePrefix } from './redis-env.ts';

const WORKER = fileURLToPath(new URL('./fixtures/worker.ts', import.meta.url));
const skip = await redisSkipReason();
const children = new Set<ChildProcessWithoutNullStreams>();
const prefixes: string[] = [];

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  const client = newClient();
  for (const prefix of prefixes) await deleteKeys(client, prefix);
  await client.quit();
});

interface Worker {
  child: ChildProcessWithoutNullStreams;
  lines: string[];
  waitFor(text: string): Promise<string>;
  exited: Promise<number | null>;
}

function startWorker(env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
    env: { ...process.env, REDIS_URL, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  const lines: string[] = [];
  const waiters: { test: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let buffer = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let index = buffer.indexOf('\n');
    while (index >= 0) {
      const line = buffer.slice(0, index);
      buffer = buffer.slice(index + 1);
      lines.push(line);
      for (const waiter of [...waiters]) {
        if (waiter.test(line)) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
      index = buffer.indexOf('\n');
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => {
    child.on('exit', (code) => {
      children.delete(child);
      if (code !== 0 && code !== null) console.error(stderr);
      resolve(code);
    });
  });
  return {
    child,
    lines,
    exited,
    waitFor: (text) =>
      new Promise((resolve, reject) => {
        const found = lines.find((line) => line.startsWith(text));
        if (found !== undefined) return resolve(found);
        waiters.push({ test: (line) => line.startsWith(text), resolve });
        void exited.then((code) => reject(new Error(`worker exited (${code}) before '${text}': ${stderr}`)));
      }),
  };
}

async function runAll(
  scenario: string,
  calls: number,
): Promise<{ allowed: number; spent: number; codes: Record<string, number> }[]> {
  const prefix = uniquePrefix(`mp-${scenario}`);
  prefixes.push(prefix);
  const workers = Array.from({ length: 4 }, (_, i) =>
    startWorker({ PREFIX: prefix, SCENARIO: scenario, CALLS: String(calls), WORKER: String(i) }),
  );
  await Promise.all(workers.map((worker) => worker.waitFor('ready')));
  for (const worker of workers) worker.child.stdin.write('go\n');
  const lines = await Promise.all(workers.map((worker) => worker.waitFor('{')));
  await Promise.all(workers.map((worker) => worker.exited));
  return lines.map((line) => JSON.parse(line));
}

describe.skipIf(skip !== undefined)(
  `four processes sharing one Redis${skip === undefined ? '' : ` (skipped: ${skip})`}`,
  () => {
    it('a rate limit of 50/min across them allows exactly 50', { timeout: 120_000 }, async () => {
      const results = await runAll('rate', 30);
      expect(results.reduce((sum, r) => sum + r.allowed, 0)).toBe(50);
      expect(results.reduce((sum, r) => sum + (r.codes.RATE_LIMITED ?? 0), 0)).toBe(70);
    });

    it('a budget is never overshot', { timeout: 120_000 }, async () => {
      const results = await runAll('budget', 40);
      const spent = results.reduce((sum, r) => sum + r.spent, 0);
      expect(spent).toBeLessThanOrEqual(1000);
      // 160 attempts of 7..13 against 1000: the budget fills up (no amount fits any more).
      expect(spent).toBeGreaterThan(1000 - 13);
      expect(results.reduce((sum, r) => sum + (r.codes.BUDGET_EXCEEDED ?? 0), 0)).toBeGreaterThan(0);
    });

    it('a grant issued in one process works in another; a suspension and a revocation stop it there', {
      timeout: 120_000,
    }, async () => {
      const prefix = uniquePrefix('mp-grant');
      prefixes.push(prefix);
      const worker = startWorker({ PREFIX: prefix, SCENARIO: 'grant', WORKER: '0' });
      await worker.waitFor('ready');
      let seen = 0;
      const call = async () => {
        worker.child.stdin.write('call\n');
        for (;;) {
          const lines = worker.lines.filter((line) => line.startsWith('{'));
          if (lines.length > seen) {
            seen = lines.length;
            return JSON.parse(lines[lines.length - 1] as string).code as string;
          }
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      };
      expect(await call()).toBe('NO_MATCHING_RULE');
      const client = newClient();
      const admin = createGuard({
        store: redisStore({ client, prefix }),
        policy: {
          name: 'none',
          evaluate: () => ({ type: 'deny', rules: [], code: 'NO_MATCHING_RULE', reason: 'no rule' }),
        },
      });
      const grant = await admin.grants.issue({
        tool: 'shared.tool',
        principal: 'user:42',
        agent: 'report-bot',
        for: '1h',
        reason: 'ticket 123',
      });
      expect(await call()).toBe('ok');
      // The kill switch set here takes effect on the worker's next call.
      await admin.suspend({ principal: 'user:42', reason: 'incident' });
      expect(await call()).toBe('SUSPENDED');
      expect(await admin.resume({ principal: 'user:42' })).toBe(true);
      expect(await call()).toBe('ok');
      expect(await admin.grants.revoke(grant.id)).toBe(true);
      expect(await call()).toBe('NO_MATCHING_RULE');
      worker.child.stdin.write('exit\n');
      await worker.exited;
      await client.quit();
    });

    it('a slot held by a killed process frees itself after its lease', { timeout: 120_000 }, async () => {
      const prefix = uniquePrefix('mp-hold');
      prefixes.push(prefix);
      const holder = startWorker({ PREFIX: prefix, SCENARIO: 'hold', CALLS: '1', WORKER: '0' });
      await holder.waitFor('ready');
      holder.child.stdin.write('go\n');
      await holder.waitFor('holding');
      const client = newClient();
      const tg = createGuard({
        onDeny: 'return',
        store: redisStore({ client, prefix }),
        policy: {
          name: 'p',
          evaluate: () =>
            ({
              type: 'allow',
              rules: ['r'],
              limits: [{ rule: 'r', limits: { concurrency: 1 } }],
              obligations: { timeout: 1000 },
            }) as Decision,
        },
      });
      const tool = tg.guard(() => 'ran', { name: 'shared.tool' });
      const context = { context: { principal: 'shared' } };
      // Wait until the holder's admission is visible, then kill it without any chance to settle.
      let first: unknown;
      for (let i = 0; i < 100; i++) {
        first = await tool({}, context);
        if (first !== 'ran') break;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(first).toMatchObject({ code: 'CONCURRENCY_LIMITED' });
      holder.child.kill('SIGKILL');
      await holder.exited;
      expect(await tool({}, context)).toMatchObject({ code: 'CONCURRENCY_LIMITED' });
      // The lease is the holder's call timeout (4 s) plus a 1 s grace: wait up to 20 s for it.
      let result: unknown;
      for (let i = 0; i < 400; i++) {
        result = await tool({}, context);
        if (result === 'ran') break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(result).toBe('ran');
      await client.quit();
    });
  },
);
