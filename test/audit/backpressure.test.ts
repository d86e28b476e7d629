import { execFileSync, spawn } from 'node:child_process';
import { closeSync, constants, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGuard, jsonlAudit, rules, verifyAuditLog } from '../../src/index.ts';
import { decisionEvent, tempDir } from './helpers.ts';

const ALLOW_ALL = rules([{ id: 'all', effect: 'allow', tool: '*' }]);

/** Sequence number of each call's decision record in a log, by call id. */
function decisionSeqs(path: string): Map<string, number> {
  const seqs = new Map<string, number>();
  for (const line of readFileSync(path, 'utf8').split('\n').slice(0, -1)) {
    const record = JSON.parse(line) as { seq: number; event?: { type: string; callId: string } };
    if (record.event?.type === 'decision') seqs.set(record.event.callId, record.seq);
  }
  return seqs;
}

describe('group commit (fail-closed)', () => {
  it('every tool runs after an fdatasync that covered its decision; one sync serves many calls', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const sink = jsonlAudit({ path });
    const tg = createGuard({ policy: ALLOW_ALL, audit: { sinks: [sink], mode: 'fail-closed' } });
    // What was durable when each tool started: the sink's own account, checked against the file.
    const syncedAtRun = new Map<string, number>();
    const tool = tg.guard(
      (_args: { n: number }, options) => {
        syncedAtRun.set(options.callId, sink.stats().synced);
        return options.callId;
      },
      { name: 'work' },
    );
    const calls = 400;
    // Four waves of concurrent calls, each wave while the previous one's sync may still run.
    const waves = await Promise.all(
      Array.from({ length: 4 }, async (_, wave) => {
        await new Promise((resolve) => setTimeout(resolve, wave));
        return Promise.all(Array.from({ length: calls / 4 }, (_, n) => tool({ n })));
      }),
    );
    expect(waves.flat()).toHaveLength(calls);
    const { syncs } = sink.stats();
    await tg.close();
    const seqs = decisionSeqs(path);
    expect(seqs.size).toBe(calls);
    for (const [callId, seq] of seqs) expect(syncedAtRun.get(callId)).toBeGreaterThanOrEqual(seq);
    // Group commit: the calls of a wave share their syncs (one per record would be 400).
    expect(syncs).toBeGreaterThan(0);
    expect(syncs).toBeLessThanOrEqual(calls / 10);
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, events: calls * 2 });
  });

  it('a durable write waits for a sync that started after it was written, not one already running', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const sink = jsonlAudit({ path });
    const first = sink.writeDurable(decisionEvent(1));
    // Written at the end of this tick; its sync is then in flight when the second record comes.
    await new Promise((resolve) => setImmediate(resolve));
    const second = sink.writeDurable(decisionEvent(2));
    await first;
    const afterFirst = sink.stats();
    await second;
    const afterSecond = sink.stats();
    expect(afterSecond.synced).toBe(2);
    // The second record came after the first sync had started: it needed a sync of its own.
    if (afterFirst.synced < 2) expect(afterSecond.syncs).toBeGreaterThan(afterFirst.syncs);
    await sink.close();
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, events: 2 });
  });
});

describe('backpressure (best-effort)', () => {
  it('a burst that never yields is written in batches as it goes: bounded queue, nothing dropped', async () => {
    const path = join(tempDir(), 'audit.jsonl');
    const batchBytes = 64 * 1024;
    const sink = jsonlAudit({ path, batchBytes, fsync: 'never' });
    let maxQueued = 0;
    // No await anywhere in the loop: timers never run, only the batch size can trigger a write.
    for (let i = 1; i <= 50_000; i++) {
      sink.write(decisionEvent(i));
      if (i % 100 === 0) maxQueued = Math.max(maxQueued, sink.stats().queued);
    }
    const written = sink.stats().written;
    await sink.close();
    expect(written).toBeGreaterThan(45_000);
    // A record here is ~400 bytes: a batch of 64 KiB holds ~160 of them.
    expect(maxQueued).toBeLessThan(400);
    expect(sink.stats()).toMatchObject({ dropped: 0, seq: 50_000 });
    expect(await verifyAuditLog(path)).toMatchObject({ ok: true, events: 50_000 });
  });

  it('a disk slower than the calls slows the calls down: bounded queue, nothing dropped, all on disk', async () => {
    const dir = tempDir();
    // The log is a FIFO drained by another process at ~2 MB/s into a file: a real, slow disk.
    const fifo = join(dir, 'audit.jsonl');
    const copy = join(dir, 'copy.jsonl');
    execFileSync('mkfifo', [fifo]);
    const reader = spawn(
      process.execPath,
      [
        '-e',
        `const fs = require('node:fs');
         const input = fs.openSync(process.argv[1], 'r');
         const output = fs.openSync(process.argv[2], 'w');
         process.stdout.write('ready\\n');
         const chunk = Buffer.alloc(4096);
         const started = Date.now();
         let total = 0;
         for (;;) {
           const n = fs.readSync(input, chunk, 0, chunk.length, null);
           if (n === 0) break;
           fs.writeSync(output, chunk, 0, n);
           total += n;
           // ~2 MB/s: sleep while ahead of that pace.
           const ahead = total / 2000 - (Date.now() - started);
           if (ahead > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ahead);
         }`,
        fifo,
        copy,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const readerDone = new Promise<number | null>((resolve) => reader.on('exit', resolve));
    try {
      // Opening one end of a FIFO waits for the other: ends held here let the sink (which also looks
      // at the file before it writes) and the reader open, and are let go once both did.
      const holdRead = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      const holdWrite = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
      const sink = jsonlAudit({ path: fifo, fsync: 'never', batchBytes: 32 * 1024 });
      await new Promise<void>((resolve) => reader.stdout!.once('data', () => resolve()));
      closeSync(holdWrite);
      closeSync(holdRead);
      const tg = createGuard({ policy: ALLOW_ALL, audit: sink });
      const tool = tg.guard((args: { n: number; pad: string }) => args.n, { name: 'work' });
      const pad = 'x'.repeat(400);
      const calls = 2_500;
      let maxQueued = 0;
      const started = Date.now();
      for (let n = 0; n < calls; n++) {
        await tool({ n, pad });
        if (n % 50 === 0) maxQueued = Math.max(maxQueued, sink.stats().queued);
      }
      await tg.close();
      const elapsed = Date.now() - started;
      expect(await readerDone).toBe(0);
      const bytes = statSync(copy).size;
      // The calls went at the disk's pace (they could not outrun it by more than the pipe's buffer
      // and one batch), the queue stayed within about one batch, and every record reached the disk.
      expect(bytes).toBeGreaterThan(3_500_000);
      expect(elapsed).toBeGreaterThan(((bytes - 100_000) / 2_000_000) * 1000 * 0.8);
      expect(maxQueued).toBeLessThan(100);
      expect(sink.stats().dropped).toBe(0);
      expect(await verifyAuditLog(copy)).toMatchObject({ ok: true, events: calls * 2 });
    } finally {
      // A failed run must not leave the reader waiting for the end of the pipe.
      reader.kill();
    }
  }, 60_000);
});
