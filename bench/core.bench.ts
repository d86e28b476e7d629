// Core pipeline overhead: a bare async call vs. the same call guarded on the allow path
// (snapshot, zod schema, rules() policy with 10 / 1,000 rules for other tools, memory audit), and
// the in-memory allow path against the hand-written floor (`floor.memory`, `ratio.allow.memory`).
import { createGuard, memoryAudit, type Rule, rules } from '../src/index.ts';
import { memoryFloor } from './fixtures/floor.ts';
import { TransferArgs, transferArgs } from './fixtures/transfer.ts';
import { type BenchRow, paired, ratioRow, sampleRow, time } from './harness.ts';

const args = transferArgs;
const Args = TransferArgs;

async function transfer(input: { amount: number }) {
  return input.amount;
}

function policyWith(count: number) {
  const list: Rule[] = [];
  for (let i = 0; i < count - 1; i++) list.push({ id: `other-${i}`, effect: 'allow', tool: `tool-${i}.*` });
  list.push({ id: 'transfer', effect: 'allow', tool: 'payments.transfer' });
  return rules(list);
}

function guarded(count: number) {
  // A bounded memory sink, as a long benchmark would otherwise keep millions of events.
  const tg = createGuard({ policy: policyWith(count), audit: memoryAudit({ limit: 1000 }) });
  return tg.guard(transfer, { name: 'payments.transfer', input: Args });
}

export default async function core(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // Per-call samples (bench/harness.ts): the goal is a median per call, and the reference's
  // composite floor was measured as per-call percentiles too.
  rows.push(await time('call.bare', () => transfer(args), { perCall: true }));
  const ten = guarded(10);
  const thousand = guarded(1000);
  // Sanity: the guarded path really allows. Both guards run before either is measured, so the
  // second row does not find code the first one left specialized to a single guard.
  if ((await ten(args)) !== 250 || (await thousand(args)) !== 250)
    throw new Error('guarded call did not allow');
  for (let i = 0; i < 20_000; i++) {
    await ten(args);
    await thousand(args);
  }
  rows.push(await time('guard.allow.rules-10', () => ten(args), { perCall: true }));
  rows.push(await time('guard.allow.rules-1000', () => thousand(args), { perCall: true }));
  // The hand-written floor (bench/fixtures/floor.ts) against the same guarded call, in alternating
  // batches of per-call samples: the ratio holds on any machine, the absolute numbers do not.
  const floor = memoryFloor();
  if ((await floor(args)) !== 250) throw new Error('floor call did not allow');
  const measured = await paired([
    { name: 'guard', call: () => ten(args) },
    { name: 'floor', call: () => floor(args) },
  ]);
  rows.push(sampleRow('floor.memory', measured.get('floor')!));
  rows.push(ratioRow('ratio.allow.memory', measured.get('guard')!, measured.get('floor')!));
  return rows;
}
