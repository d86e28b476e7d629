// Machine anchors: the four steps whose cost the issues quote as "measured on this machine"
// (../shared/research/performance-anchors.md, §4.1: mitata batched means on the project's standard
// machine), measured again in the same run as the other rows. Their sum against the reference sum
// is the machine factor: how much slower (> 1) or faster this host runs the same steps, so a row
// measured on another host can be read against goals written for the reference machine.

import { measure } from 'mitata';
import { nanoid } from 'nanoid';
import { TransferArgs, transferArgs } from './fixtures/transfer.ts';
import { type BenchRow, report } from './harness.ts';

/** Reference means (ns), average of the two runs recorded in performance-anchors.md §4.1. */
export const REFERENCE_NS = {
  'anchor.await': (92.2 + 97.2) / 2,
  'anchor.zod.safeParse': (214 + 229) / 2,
  'anchor.nanoid': (170 + 167) / 2,
  'anchor.json.stringify-289': (815 + 829) / 2,
} as const;

// The exact workloads of the reference script (bench-floor.mjs, described in §5 of that page).
const args = transferArgs;
const Args = TransferArgs;
export const ANCHOR_RECORD = {
  id: 'V1StGXR8_Z5jdHi6B-myT',
  ts: 1_764_170_000_000,
  agent: 'billing-agent',
  tenant: 'acme',
  tool: 'payments.transfer',
  args,
  decision: 'allow',
  rule: 'allow-small-transfers',
  latencyUs: 12,
  approval: null,
};
async function asyncTool(input: { amount: number }) {
  return input.amount;
}

let sink: unknown;
const cases: Record<keyof typeof REFERENCE_NS, () => unknown> = {
  'anchor.await': () => asyncTool(args),
  'anchor.zod.safeParse': () => {
    sink = Args.safeParse(args);
  },
  'anchor.nanoid': () => {
    sink = nanoid();
  },
  'anchor.json.stringify-289': () => {
    sink = JSON.stringify(ANCHOR_RECORD);
  },
};

/** Measures the anchors; `factor` is their sum against the reference sum (> 1: slower here). */
export async function measureAnchors(quiet = false): Promise<{ rows: BenchRow[]; factor: number }> {
  const rows: BenchRow[] = [];
  let sum = 0;
  let reference = 0;
  const show = (row: BenchRow) => (quiet ? row : report(row));
  for (const [name, fn] of Object.entries(cases) as [keyof typeof REFERENCE_NS, () => unknown][]) {
    // The reference numbers are mitata's batched means, so these are too.
    const stats = await measure(fn as () => void, { min_cpu_time: 300 * 1e6 } as never);
    const mean = Math.round(stats.avg * 10) / 10;
    sum += mean;
    reference += REFERENCE_NS[name];
    rows.push(show({ name, mean_ns: mean, reference_ns: REFERENCE_NS[name] }));
  }
  void sink;
  const factor = Math.round((sum / reference) * 100) / 100;
  rows.push(
    show({
      name: 'anchor.sum',
      mean_ns: Math.round(sum),
      reference_ns: Math.round(reference),
      machine_factor: factor,
    }),
  );
  return { rows, factor };
}

/**
 * Rows of other modules that are CPU-bound: bench/run-one.ts measures the anchors just before and
 * after such a module, in its process, and stamps these rows with that `machine_factor`. It is
 * context for reading a row on another machine, not a conversion: steps slow down by different
 * amounts from one machine to another (on one slower host: await 1.1-1.4×, JSON.stringify
 * 2-2.8×, zod 2.6-3.8×), so no row is scaled by it.
 */
export const CPU_BOUND =
  /^(call\.bare|floor\.|guard\.allow\.|guard\.nolimits\.memory|guard\.ratelimit\.memory|store\.admit\.memory|audit\.jsonl\.write|audit\.verify)/;

export default async function anchors(): Promise<BenchRow[]> {
  if (JSON.stringify(ANCHOR_RECORD).length + 4 < 285)
    throw new Error('anchor record is not the reference size');
  return (await measureAnchors()).rows;
}
