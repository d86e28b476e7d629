// Audit trail costs: JSONL writes with the hash chain, a guarded allow with a JSONL sink
// (best-effort), verification of a 1M-record log (throughput and peak memory, in a child
// process), and fail-closed group commit with fsync under 64 concurrent calls.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuditEvent, createGuard, jsonlAudit, rules } from '../src/index.ts';
import { ANCHOR_RECORD } from './anchors.bench.ts';
import { type BenchRow, report, time } from './harness.ts';

/**
 * The file-writing anchor the audit issue quotes ("a buffered stream writes a line in ~2 µs
 * here"): `fs.WriteStream.write` of the 289-byte reference record and a newline, waiting for
 * `drain` when `write` says so, 100,000 lines, wall time up to `finish`
 * (../shared/research/performance-anchors.md §4.2, `bench-fileio.mjs`). Reference: the mean of
 * its two runs there, 2.12 and 2.29 µs per line.
 */
const STREAM_REFERENCE_NS = (2120 + 2290) / 2;
const STREAM_LINES = 100_000;

async function streamNsPerLine(path: string): Promise<number> {
  const line = `${JSON.stringify(ANCHOR_RECORD)}\n`;
  const started = performance.now();
  const stream = createWriteStream(path);
  for (let i = 0; i < STREAM_LINES; i++) {
    if (!stream.write(line)) await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.end(resolve);
  });
  return ((performance.now() - started) * 1e6) / STREAM_LINES;
}

const ALLOW = rules([{ id: 'transfer', effect: 'allow', tool: 'payments.transfer' }]);
const args = { to: 'acct-4711', amount: 250, currency: 'EUR', memo: 'invoice 2024-117', urgent: false };

function event(n: number): AuditEvent {
  return {
    v: 1,
    id: `V1StGXR8_Z5jdHi6B-${n}.1`,
    ts: 1_767_225_600_000 + n,
    type: 'decision',
    callId: `V1StGXR8_Z5jdHi6B-${n}`,
    tool: 'payments.transfer',
    agent: 'support-bot',
    principal: 'user:42',
    argsHash: '3f1c0b2a9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a',
    args,
    policyVersion: 'v1',
    decision: 'allow',
    policyDecision: 'allow',
    rules: ['transfer'],
    durationMs: 0.0123,
  };
}

async function writeRecords(path: string, count: number): Promise<number> {
  const sink = jsonlAudit({ path, flushOnExit: false });
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    sink.write(event(i));
    // Yield now and then, as a server would, so batches are written as they fill.
    if (i % 4096 === 4095) await new Promise((resolve) => setImmediate(resolve));
  }
  await sink.close();
  return count / ((performance.now() - started) / 1000);
}

export default async function audit(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'toolgate-bench-audit-'));
  try {
    // The stream anchor just before and just after the writer, on the same disk: how this host's
    // buffered file writes compare with the reference machine's (context, like machine_factor).
    const before = await streamNsPerLine(join(dir, 'stream-before.jsonl'));
    const writeRate = await writeRecords(join(dir, 'write.jsonl'), 200_000);
    const after = await streamNsPerLine(join(dir, 'stream-after.jsonl'));
    const streamNs = (before + after) / 2;
    const streamFactor = Math.round((streamNs / STREAM_REFERENCE_NS) * 100) / 100;
    rows.push(
      report({
        name: 'anchor.stream.write-289',
        mean_ns: Math.round(streamNs),
        reference_ns: STREAM_REFERENCE_NS,
        stream_factor: streamFactor,
      }),
    );
    rows.push(
      report({
        name: 'audit.jsonl.write',
        records_per_s: Math.round(writeRate),
        stream_factor: streamFactor,
      }),
    );

    const sink = jsonlAudit({ path: join(dir, 'guard.jsonl'), flushOnExit: false });
    const tg = createGuard({ policy: ALLOW, audit: sink });
    const transfer = tg.guard(async (input: { amount: number }) => input.amount, {
      name: 'payments.transfer',
    });
    if ((await transfer(args)) !== 250) throw new Error('guarded call did not allow');
    rows.push(await time('guard.allow.jsonl', () => transfer(args)));
    await tg.close();

    const big = join(dir, 'verify.jsonl');
    await writeRecords(big, 1_000_000);
    const output = execFileSync(
      process.execPath,
      [...process.execArgv, join(import.meta.dirname, 'fixtures', 'audit-verify-child.ts'), big],
      { encoding: 'utf8' },
    );
    const verified = JSON.parse(output.trim().split('\n').pop()!) as Record<string, number>;
    rows.push(
      report({
        name: 'audit.verify',
        records_per_s: verified.records_per_s,
        peak_rss_mb: verified.peak_rss_mb,
      }),
    );

    const durable = jsonlAudit({ path: join(dir, 'failclosed.jsonl'), fsync: 'batch', flushOnExit: false });
    const strict = createGuard({ policy: ALLOW, audit: { sinks: [durable], mode: 'fail-closed' } });
    const guarded = strict.guard(async (input: { amount: number }) => input.amount, {
      name: 'payments.transfer',
    });
    let calls = 0;
    const until = performance.now() + 3_000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (performance.now() < until) {
          await guarded(args);
          calls += 1;
        }
      }),
    );
    rows.push(
      report({
        name: 'audit.failclosed.64',
        calls_per_s: Math.round(calls / ((performance.now() - started) / 1000)),
      }),
    );
    await strict.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
