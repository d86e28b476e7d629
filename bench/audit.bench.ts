// Audit trail costs: JSONL writes with the hash chain against a plain buffered stream, a guarded
// allow with a JSONL sink (best-effort) against the hand-written file floor, verification of a
// 1M-record log (throughput and peak memory, in a child process), fail-closed group commit under
// 64 concurrent calls against one fdatasync per record, and heap growth over 1M audited calls.
import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AuditEvent, createGuard, jsonlAudit, rules } from '../src/index.ts';
import { ANCHOR_RECORD } from './anchors.bench.ts';
import { drained, fileFloor } from './fixtures/floor.ts';
import { TransferArgs } from './fixtures/transfer.ts';
import { type BenchRow, paired, ratioRow, report, sampleRow } from './harness.ts';

/**
 * The file-writing anchor the audit issue quotes ("a buffered stream writes a line in ~2 µs
 * here"): `fs.WriteStream.write` of the 289-byte reference record and a newline, waiting for
 * `drain` when `write` says so, 100,000 lines, wall time up to `finish`
 * (../shared/research/performance-anchors.md §4.2, `bench-fileio.mjs`). Reference: the mean of
 * its two runs there, 2.12 and 2.29 µs per line.
 */
const STREAM_REFERENCE_NS = (2120 + 2290) / 2;
const STREAM_LINES = 100_000;

async function streamNsPerLine(path: string, lines?: readonly Buffer[]): Promise<number> {
  const line = `${JSON.stringify(ANCHOR_RECORD)}\n`;
  const count = lines?.length ?? STREAM_LINES;
  const started = performance.now();
  const stream = createWriteStream(path);
  for (let i = 0; i < count; i++) {
    if (!stream.write(lines?.[i] ?? line))
      await new Promise<void>((resolve) => stream.once('drain', () => resolve()));
  }
  await new Promise<void>((resolve, reject) => {
    stream.once('error', reject);
    stream.end(resolve);
  });
  return ((performance.now() - started) * 1e6) / count;
}

/** The lines of a file, each with its newline, as views of one buffer. */
function fileLines(path: string): Buffer[] {
  const bytes = readFileSync(path);
  const lines: Buffer[] = [];
  let start = 0;
  for (let end = bytes.indexOf(10); end >= 0; end = bytes.indexOf(10, start)) {
    lines.push(bytes.subarray(start, end + 1));
    start = end + 1;
  }
  return lines;
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

/** Calls audited by the heap row. */
const HEAP_CALLS = 1_000_000;
/** A decision line of the size the writer writes for the bench's guarded call. */
const SYNCED_LINE = Buffer.from(`${JSON.stringify({ ...event(0), pad: 'x'.repeat(40) })}\n`);

/** Records per second written by `writers` concurrent loops of write + fdatasync, for 2 s. */
async function syncedWrites(path: string, writers: number): Promise<number> {
  const handle = await open(path, 'a');
  let records = 0;
  const started = performance.now();
  const until = started + 2_000;
  try {
    await Promise.all(
      Array.from({ length: writers }, async () => {
        while (performance.now() < until) {
          await handle.write(SYNCED_LINE);
          await handle.datasync();
          records += 1;
        }
      }),
    );
  } finally {
    await handle.close();
  }
  return records / ((performance.now() - started) / 1000);
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
    // The same stream writing the very lines the writer wrote, pre-built: the same bytes, without
    // canonical JSON, the hash chain or a sync.
    const sameLines = fileLines(join(dir, 'write.jsonl'));
    const sameNs = await streamNsPerLine(join(dir, 'stream-same.jsonl'), sameLines);
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
    rows.push(
      report({
        name: 'stream.write.same-lines',
        lines_per_s: Math.round(1e9 / sameNs),
        bytes_per_line: Math.round(sameLines.reduce((sum, line) => sum + line.length, 0) / sameLines.length),
      }),
    );
    // The writer against the plain stream of the same run (record and line rates): the 289-byte
    // anchor line, and the writer's own lines.
    rows.push(
      report({
        name: 'ratio.jsonl.write',
        ratio: Math.round((writeRate / (1e9 / streamNs)) * 100) / 100,
        ratio_same_lines: Math.round((writeRate / (1e9 / sameNs)) * 100) / 100,
        stream_lines_per_s: Math.round(1e9 / streamNs),
      }),
    );

    // The guarded allow path with a best-effort JSONL sink against the hand-written file floor,
    // per-call samples in alternating batches; each side's background writes finish (untimed)
    // before the other side's batch starts.
    const sink = jsonlAudit({ path: join(dir, 'guard.jsonl'), flushOnExit: false });
    const tg = createGuard({ policy: ALLOW, audit: sink });
    const transfer = tg.guard(async (input: { amount: number }) => input.amount, {
      name: 'payments.transfer',
      input: TransferArgs,
    });
    const floor = fileFloor(join(dir, 'floor.jsonl'));
    if ((await transfer(args)) !== 250 || (await floor.call(args)) !== 250)
      throw new Error('guarded or floor call did not allow');
    const measured = await paired([
      { name: 'guard', call: () => transfer(args), settle: () => sink.flush() },
      { name: 'floor', call: () => floor.call(args), settle: () => drained(floor.stream) },
    ]);
    rows.push(sampleRow('guard.allow.jsonl', measured.get('guard')!));
    rows.push(sampleRow('floor.file', measured.get('floor')!));
    rows.push(ratioRow('ratio.allow.jsonl', measured.get('guard')!, measured.get('floor')!));
    await tg.close();
    await floor.close();

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
    const failClosedRate = calls / ((performance.now() - started) / 1000);
    rows.push(report({ name: 'audit.failclosed.64', calls_per_s: Math.round(failClosedRate) }));
    await strict.close();
    // One fdatasync per record, as performance-anchors.md measured it (`await fh.write(line);
    // await fh.datasync()`), on the same disk just after; and the same by 64 concurrent writers,
    // whose syncs the kernel partly merges.
    const perRecord = await syncedWrites(join(dir, 'per-record.jsonl'), 1);
    const perRecord64 = await syncedWrites(join(dir, 'per-record-64.jsonl'), 64);
    rows.push(report({ name: 'audit.fdatasync.per-record', records_per_s: Math.round(perRecord) }));
    rows.push(report({ name: 'audit.fdatasync.per-record.64', records_per_s: Math.round(perRecord64) }));
    rows.push(
      report({
        name: 'ratio.failclosed.64',
        ratio: Math.round((failClosedRate / perRecord) * 100) / 100,
        ratio_to_64_writers: Math.round((failClosedRate / perRecord64) * 100) / 100,
      }),
    );

    // Heap growth over 1M file-audited calls, in a fresh process with --expose-gc.
    const heap = JSON.parse(
      execFileSync(
        process.execPath,
        [
          ...process.execArgv,
          '--expose-gc',
          join(import.meta.dirname, 'fixtures', 'audit-heap-child.ts'),
          join(dir, 'heap.jsonl'),
          String(HEAP_CALLS),
        ],
        { encoding: 'utf8' },
      )
        .trim()
        .split('\n')
        .pop()!,
    ) as Record<string, number>;
    rows.push(report({ name: 'audit.heap.1m', ...heap }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
