// Paired comparison of two builds on the file-audited allow path (`guard.allow.jsonl` of
// bench/audit.bench.ts), with the hand-written file floor in the same run: all three in one
// process, per-call samples in alternating batches (bench/harness.ts `paired`), each side's
// background writes finished untimed after its batch.
//
//   node --import tsx bench/paired-jsonl.ts <old dist> <new dist> [rounds] [batch]
//
// Prints one JSON line: median, p99 and mean of each, new/old and each against the floor.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { drained, fileFloor } from './fixtures/floor.ts';
import { TransferArgs, transferArgs } from './fixtures/transfer.ts';
import { type Contestant, paired, quantile, type Samples } from './harness.ts';

type Entry = typeof import('../src/index.ts');
const [oldDir, newDir, roundsArg, batchArg] = process.argv.slice(2);
if (oldDir === undefined || newDir === undefined)
  throw new Error('usage: paired-jsonl.ts <old dist> <new dist> [rounds] [batch]');
const dir = mkdtempSync(join(tmpdir(), 'toolgate-paired-jsonl-'));

async function contestant(name: string, dist: string): Promise<{ c: Contestant; close(): Promise<void> }> {
  const { createGuard, jsonlAudit, rules } = (await import(
    pathToFileURL(resolve(dist, 'index.js')).href
  )) as Entry;
  const sink = jsonlAudit({ path: join(dir, `${name}.jsonl`), flushOnExit: false });
  const tg = createGuard({
    policy: rules([{ id: 'transfer', effect: 'allow', tool: 'payments.transfer' }]),
    audit: sink,
  });
  const transfer = tg.guard(async (input: { amount: number }) => input.amount, {
    name: 'payments.transfer',
    input: TransferArgs,
  });
  if ((await transfer(transferArgs)) !== 250) throw new Error(`${name} did not allow`);
  return {
    c: { name, call: () => transfer(transferArgs), settle: () => sink.flush() },
    close: () => tg.close(),
  };
}

try {
  const before = await contestant('old', oldDir);
  const after = await contestant('new', newDir);
  const floor = fileFloor(join(dir, 'floor.jsonl'));
  const measured = await paired(
    [
      before.c,
      after.c,
      { name: 'floor', call: () => floor.call(transferArgs), settle: () => drained(floor.stream) },
    ],
    { rounds: Number(roundsArg ?? 40), batch: Number(batchArg ?? 2_000) },
  );
  const stats = (s: Samples) => {
    let sum = 0;
    for (const v of s.samples) sum += v;
    return {
      median: quantile(s.samples, 0.5),
      p99: quantile(s.samples, 0.99),
      mean: sum / s.samples.length,
    };
  };
  const o = stats(measured.get('old')!);
  const n = stats(measured.get('new')!);
  const f = stats(measured.get('floor')!);
  const r = (a: number, b: number) => Math.round((a / b) * 1000) / 1000;
  const perBatch = measured
    .get('new')!
    .batchMedians.map((v, i) => v / measured.get('old')!.batchMedians[i]!)
    .sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      node: process.version,
      old_ns: { median: Math.round(o.median), p99: Math.round(o.p99), mean: Math.round(o.mean) },
      new_ns: { median: Math.round(n.median), p99: Math.round(n.p99), mean: Math.round(n.mean) },
      floor_ns: { median: Math.round(f.median), p99: Math.round(f.p99), mean: Math.round(f.mean) },
      new_over_old: { median: r(n.median, o.median), p99: r(n.p99, o.p99), mean: r(n.mean, o.mean) },
      new_batch_median_ratio: Math.round(perBatch[Math.floor(perBatch.length / 2)]! * 1000) / 1000,
      old_over_floor: { median: r(o.median, f.median), p99: r(o.p99, f.p99) },
      new_over_floor: { median: r(n.median, f.median), p99: r(n.p99, f.p99) },
    }),
  );
  await before.close();
  await after.close();
  await floor.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
