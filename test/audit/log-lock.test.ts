import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  existsSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { jsonlAudit } from '../../src/audit/jsonl.ts';
import { verifyAuditLog } from '../../src/audit/verify.ts';
import { decisionEvent, tempDir } from './helpers.ts';

// One writer per log: a second one (another sink in this process, or another process) would
// extend the chain from the head it saw, and their rotations would rename each other's files away.

describe('one writer per audit log', () => {
  it('a second sink on the same file in one process is refused; after close the file opens again', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const first = jsonlAudit({ path, flushOnExit: false });
    expect(() => jsonlAudit({ path, flushOnExit: false })).toThrow(/already open in this process/);
    first.write(decisionEvent(1));
    await first.close();
    await expectReleased(path);
  });

  it('a file another live process writes is refused, naming it; a lock whose process is gone is taken over', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    await withLiveProcess((pid) => {
      writeFileSync(`${path}.lock`, `${JSON.stringify({ pid, host: hostname() })}\n`);
      expect(() => jsonlAudit({ path, flushOnExit: false })).toThrow(
        new RegExp(`written by process ${pid}: a second writer would break its chain`),
      );
    });
    // The process is gone now: its lock is stale.
    const sink = jsonlAudit({ path, flushOnExit: false });
    expect(JSON.parse(readFileSync(`${path}.lock`, 'utf8'))).toMatchObject({
      pid: process.pid,
      host: hostname(),
    });
    await sink.close();
  });

  // Before: close() released the lock after closing the file, so a close that threw left the log
  // locked in this process until it exited ("already open in this process").
  it.skipIf(!existsSync('/proc/self/fd'))(
    'close() releases the lock when closing the file fails',
    async () => {
      const path = join(tempDir(), 'audit.jsonl');
      const sink = jsonlAudit({ path, flushOnExit: false });
      sink.write(decisionEvent(1));
      await sink.flush();
      // The sink's descriptor is closed underneath it: its own close then fails (EBADF).
      closeSync(descriptorOf(path));
      await expect(sink.close()).rejects.toMatchObject({ code: 'EBADF' });
      await expectReleased(path);
    },
  );

  it('a log that cannot be opened (its last record does not verify) is left unlocked', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const sink = jsonlAudit({ path, flushOnExit: false });
    sink.write(decisionEvent(1));
    await sink.close();
    const intact = readFileSync(path, 'utf8');
    writeFileSync(path, intact.replace('"decision":"allow"', '"decision":"deny"'));
    expect(() => jsonlAudit({ path, flushOnExit: false })).toThrow(/verify/);
    expect(existsSync(`${path}.lock`)).toBe(false);
    writeFileSync(path, intact);
    await jsonlAudit({ path, flushOnExit: false }).close();
  });

  it('a lock written on another host is refused (its processes cannot be seen from here)', () => {
    const path = join(tempDir(), 'audit.jsonl');
    writeFileSync(`${path}.lock`, `${JSON.stringify({ pid: 1, host: `not-${hostname()}` })}\n`);
    expect(() => jsonlAudit({ path, flushOnExit: false })).toThrow(/on host not-/);
  });

  it('two processes started on one file at once: exactly one writes, and the log verifies', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const script = `
      const { jsonlAudit } = await import(${JSON.stringify(new URL('../../src/audit/jsonl.ts', import.meta.url).href)});
      try {
        const sink = jsonlAudit({ path: ${JSON.stringify(path)}, flushOnExit: false });
        for (let i = 0; i < 200; i++) sink.write({ v: 1, id: 'p' + process.pid + '.' + i, ts: Date.now(), type: 'decision', callId: 'c' + i, tool: 't', decision: 'allow', rules: [] });
        await sink.close();
        console.log('wrote');
      } catch (error) {
        console.log('refused: ' + error.message);
      }`;
    const run = () =>
      new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script]);
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
        });
        child.on('exit', () => resolve(out.trim()));
      });
    const outcomes = await Promise.all([run(), run()]);
    const wrote = outcomes.filter((o) => o === 'wrote').length;
    // Either one refused while the other wrote, or they ran one after the other: never at once.
    expect(
      outcomes.filter((o) => o !== 'wrote' && !o.startsWith('refused: toolgate: the audit log')),
    ).toEqual([]);
    expect(wrote).toBeGreaterThanOrEqual(1);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true });
  }, 60_000);
});

describe('the threads of one process', () => {
  // Before: a lock naming this process's pid that this thread did not hold was taken for one left
  // by an earlier life of the pid, so every worker thread of a process got the same log.
  it.skipIf(!existsSync('/proc/self/fd'))(
    'worker threads opening one log together: exactly one gets it, the others are refused',
    async () => {
      const dir = tempDir();
      const path = join(dir, 'audit.jsonl');
      const worker = join(dir, 'worker.mjs');
      writeFileSync(
        worker,
        `import { parentPort, workerData } from 'node:worker_threads';
        // A worker does not inherit the tsx loader: registered here, for the TypeScript sources.
        const { register } = await import(${JSON.stringify(TSX_API)});
        register();
        const { jsonlAudit } = await import(${JSON.stringify(new URL('../../src/audit/jsonl.ts', import.meta.url).href)});
        while (Date.now() < workerData.at) {}
        let sink;
        try {
          sink = jsonlAudit({ path: workerData.path, flushOnExit: false });
          parentPort.postMessage('got');
        } catch (error) {
          parentPort.postMessage('refused: ' + error.message);
        }
        parentPort.once('message', async () => {
          await sink?.close();
          parentPort.postMessage('released');
        });`,
      );
      const main = `
        const { Worker } = await import('node:worker_threads');
        const at = Date.now() + 1500;
        const workers = Array.from({ length: 6 }, () => new Worker(${JSON.stringify(worker)}, { execArgv: [], workerData: { path: ${JSON.stringify(path)}, at } }));
        const next = (w) => new Promise((resolve) => w.once('message', resolve));
        const outcomes = await Promise.all(workers.map(next));
        await Promise.all(workers.map((w) => { const done = next(w); w.postMessage('release'); return done; }));
        await Promise.all(workers.map((w) => w.terminate()));
        console.log(JSON.stringify(outcomes));`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', main], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
      });
      const code = await new Promise((resolve) => child.on('exit', resolve));
      expect(code).toBe(0);
      const outcomes = JSON.parse(out) as string[];
      expect(outcomes.filter((o) => o === 'got')).toHaveLength(1);
      for (const outcome of outcomes.filter((o) => o !== 'got'))
        expect(outcome).toMatch(/^refused: .*is open in another thread of this process/);
      expect(existsSync(`${path}.lock`)).toBe(false);
    },
    60_000,
  );

  it('a lock naming this process that no thread of it holds is left from an earlier life: taken over', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    writeFileSync(`${path}.lock`, `${JSON.stringify({ pid: process.pid, host: hostname() })}\n`);
    const sink = jsonlAudit({ path, flushOnExit: false });
    expect(JSON.parse(readFileSync(`${path}.lock`, 'utf8'))).toMatchObject({ pid: process.pid });
    await sink.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});

describe('taking over a stale lock', () => {
  // A lock whose process is gone is taken over. Before: each starting writer removed the lock it
  // had found stale and linked its own, so one that read the stale lock a moment before another's
  // takeover removed that fresh lock in turn, and both wrote (two chains forked in one file).
  it('many processes started together over one stale lock: exactly one takes it, every round', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const children = Array.from({ length: CONTENDERS }, () => contender(path));
    try {
      await Promise.all(children.map((child) => child.next()));
      for (let round = 0; round < ROUNDS; round++) {
        const stale = `${JSON.stringify({ pid: await deadPid(), host: hostname() })}\n`;
        writeFileSync(`${path}.lock`, stale);
        // Every other round, an earlier takeover of that lock was cut short by a crash.
        if (round % 2 === 1)
          writeFileSync(
            claimOf(path, stale),
            `${JSON.stringify({ pid: await deadPid(), host: hostname() })}\n`,
          );
        // All of them spin until the same moment, then open the log.
        const at = Date.now() + 200;
        for (const child of children) child.send(`go ${at}`);
        const outcomes = await Promise.all(children.map((child) => child.next()));
        const winners = outcomes.filter((o) => o.startsWith('got '));
        expect(winners, `round ${round}: ${outcomes.join(' | ')}`).toHaveLength(1);
        const winner = winners[0]!.slice(4);
        // Every other one was refused, naming the winner (not a failure to take the lock).
        for (const outcome of outcomes.filter((o) => !o.startsWith('got ')))
          expect(outcome).toMatch(new RegExp(`^refused: .*written by process ${winner}: `));
        for (const child of children) child.send('release');
        await Promise.all(children.map((child) => child.next()));
        expect(readdirSync(dirname(path))).toEqual(['audit.jsonl']);
      }
    } finally {
      for (const child of children) child.kill();
    }
    expect((await verifyAuditLog(path)).ok).toBe(true);
  }, 120_000);

  it('a takeover cut short by a crash does not block the next one: its claim is stale too', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const stale = `${JSON.stringify({ pid: await deadPid(), host: hostname() })}\n`;
    writeFileSync(`${path}.lock`, stale);
    writeFileSync(claimOf(path, stale), `${JSON.stringify({ pid: await deadPid(), host: hostname() })}\n`);
    const sink = jsonlAudit({ path, flushOnExit: false });
    expect(readdirSync(dirname(path)).sort()).toEqual(['audit.jsonl', 'audit.jsonl.lock']);
    await sink.close();
  });

  it('a takeover by a live process is waited for, then refused naming that process', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const stale = `${JSON.stringify({ pid: await deadPid(), host: hostname() })}\n`;
    writeFileSync(`${path}.lock`, stale);
    await withLiveProcess((pid) => {
      writeFileSync(claimOf(path, stale), `${JSON.stringify({ pid, host: hostname() })}\n`);
      const started = Date.now();
      expect(() => jsonlAudit({ path, flushOnExit: false })).toThrow(
        new RegExp(`could not be taken: process ${pid} has been taking it over`),
      );
      expect(Date.now() - started).toBeGreaterThanOrEqual(4_000);
      expect(readFileSync(`${path}.lock`, 'utf8')).toBe(stale);
    });
  }, 30_000);
});

/** tsx's module-hook API, which a worker thread registers itself. */
const TSX_API = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(
  /\.cjs$/,
  '.mjs',
);
const CONTENDERS = 12;
const ROUNDS = 8;

/** Where a takeover of the lock holding `content` claims it (src/audit/log-lock.ts). */
function claimOf(path: string, content: string): string {
  return `${path}.lock.takeover-${createHash('sha256').update(content).digest('hex').slice(0, 32)}`;
}

/** The lock of the log at `path` is gone, and the log opens again in this process (and verifies). */
async function expectReleased(path: string): Promise<void> {
  expect(existsSync(`${path}.lock`)).toBe(false);
  const again = jsonlAudit({ path, flushOnExit: false });
  again.write(decisionEvent(2));
  await again.close();
  expect((await verifyAuditLog(path)).ok).toBe(true);
}

/** Runs `body` with the pid of a live process, killed after. */
async function withLiveProcess(body: (pid: number) => void): Promise<void> {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
  try {
    body(child.pid!);
  } finally {
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

/**
 * A process that, on `go <time>`, opens a sink on `path` at that time and answers `got <pid>` or
 * `refused: <message>`; on `release` it closes its sink (with a record) and answers `released`.
 */
function contender(path: string): { next(): Promise<string>; send(line: string): void; kill(): void } {
  const script = `
    const { jsonlAudit } = await import(${JSON.stringify(new URL('../../src/audit/jsonl.ts', import.meta.url).href)});
    const { createInterface } = await import('node:readline');
    let sink;
    createInterface({ input: process.stdin }).on('line', async (line) => {
      if (line.startsWith('go ')) {
        const at = Number(line.slice(3));
        await new Promise((resolve) => setTimeout(resolve, at - Date.now() - 20));
        while (Date.now() < at) {}
        try {
          sink = jsonlAudit({ path: ${JSON.stringify(path)}, flushOnExit: false });
          console.log('got ' + process.pid);
        } catch (error) {
          console.log('refused: ' + error.message);
        }
      } else if (line === 'release') {
        if (sink !== undefined) {
          sink.write({ v: 1, id: 'p' + process.pid, ts: Date.now(), type: 'decision', callId: 'c', tool: 't', decision: 'allow', rules: [] });
          await sink.close();
          sink = undefined;
        }
        console.log('released');
      }
    });
    console.log('ready');`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const waiting: ((line: string) => void)[] = [];
  let buffered = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 1);
      const taker = waiting.shift();
      if (taker === undefined) lines.push(line);
      else taker(line);
    }
  });
  return {
    next: () => {
      const line = lines.shift();
      return line === undefined ? new Promise((resolve) => waiting.push(resolve)) : Promise.resolve(line);
    },
    send: (line) => child.stdin!.write(`${line}\n`),
    kill: () => child.kill('SIGKILL'),
  };
}

/** The descriptor this process holds open on `path` (from /proc/self/fd). */
function descriptorOf(path: string): number {
  const target = realpathSync(path);
  for (const entry of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${entry}`) === target) return Number(entry);
    } catch {
      // Closed since it was listed (the listing's own descriptor).
    }
  }
  throw new Error(`no descriptor open on ${path}`);
}
