// Paired comparison of two builds of the core allow path (docs/performance.md, "How a change is
// measured"): both builds are loaded in one process, batches of each alternate (which goes first
// alternates too), and the result is the median of the per-pair ratios new / old. Load that comes
// and goes on a shared host hits both sides of a pair alike, which separate runs cannot promise.
//
//   npm run build && cp -r dist /somewhere/old-dist     # before the change
//   npm run build                                       # after it
//   node bench/paired.ts /somewhere/old-dist dist [pairs] [batch] [workload]
//
// `workload` is `core` (default: the `guard.allow.rules-10` row of bench/core.bench.ts) or `limits`
// (the same call under a `1000/1m` rate limit on the memory store). Run with `--import tsx` (the
// fixture is TypeScript). An old dist must resolve `zod` and the other dependencies, so keep it
// under this repository (e.g. `node_modules/.cache/old/dist`).
//
// The build loaded second runs about 2% slower than the first in this setup (two copies of the
// same build measured 1.013-1.032), so run it both ways round and take the geometric mean of
// new/old from one and the inverse of old/new from the other: the order bias cancels
// (docs/performance.md, "The pipeline as a list of steps").
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TransferArgs, transferArgs } from './fixtures/transfer.ts';

type Entry = typeof import('../src/index.ts');
type Call = () => Promise<unknown>;

const [oldDir, newDir, pairsArg, batchArg, workloadArg] = process.argv.slice(2);
if (oldDir === undefined || newDir === undefined)
  throw new Error('usage: paired.ts <old dist> <new dist> [pairs] [batch] [core|limits]');
const pairs = Number(pairsArg ?? 60);
const batch = Number(batchArg ?? 10_000);
const workload = workloadArg ?? 'core';

async function load(dir: string): Promise<Entry> {
  return (await import(pathToFileURL(resolve(dir, 'index.js')).href)) as Entry;
}

function steppingClock(): () => number {
  let now = Date.UTC(2026, 0, 1);
  return () => {
    now += 100;
    return now;
  };
}

function build(toolgate: Entry): Call {
  const { createGuard, memoryAudit, rules } = toolgate;
  const transfer = async (input: { amount: number }) => input.amount;
  const list: import('../src/index.ts').Rule[] = [];
  for (let i = 0; i < 9; i++) list.push({ id: `other-${i}`, effect: 'allow', tool: `tool-${i}.*` });
  if (workload === 'limits') {
    list.push({ id: 'transfer', effect: 'allow', tool: 'payments.transfer', limit: { rate: '1000/1m' } });
    const tg = createGuard({
      policy: rules(list),
      audit: memoryAudit({ limit: 1000 }),
      now: steppingClock(),
    });
    const tool = tg.guard(transfer, { name: 'payments.transfer', input: TransferArgs });
    return () => tool(transferArgs, { context: { principal: 'user:42' } });
  }
  list.push({ id: 'transfer', effect: 'allow', tool: 'payments.transfer' });
  const tg = createGuard({ policy: rules(list), audit: memoryAudit({ limit: 1000 }) });
  const tool = tg.guard(transfer, { name: 'payments.transfer', input: TransferArgs });
  return () => tool(transferArgs);
}

async function timed(call: Call): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < batch; i++) await call();
  return Number(process.hrtime.bigint() - started) / batch;
}

const before = build(await load(oldDir));
const after = build(await load(newDir));
for (let i = 0; i < 20_000; i++) {
  await before();
  await after();
}
const ratios: number[] = [];
const oldNs: number[] = [];
const newNs: number[] = [];
for (let pair = 0; pair < pairs; pair++) {
  let a: number;
  let b: number;
  if (pair % 2 === 0) {
    a = await timed(before);
    b = await timed(after);
  } else {
    b = await timed(after);
    a = await timed(before);
  }
  oldNs.push(a);
  newNs.push(b);
  ratios.push(b / a);
}
const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] ?? 0;
const quartile = (values: number[], q: number) =>
  [...values].sort((x, y) => x - y)[Math.floor(values.length * q)] ?? 0;
console.log(
  JSON.stringify({
    workload,
    pairs,
    batch,
    ratio_median: Number(median(ratios).toFixed(4)),
    ratio_p25: Number(quartile(ratios, 0.25).toFixed(4)),
    ratio_p75: Number(quartile(ratios, 0.75).toFixed(4)),
    old_ns_median: Math.round(median(oldNs)),
    new_ns_median: Math.round(median(newNs)),
  }),
);
