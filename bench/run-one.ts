// Runs one benchmark module (its path is the argument) and prints its rows as one JSON line on
// stdout; progress goes to stderr. Started by bench/index.ts, one process per module.
import { pathToFileURL } from 'node:url';
import { CPU_BOUND, measureAnchors } from './anchors.bench.ts';
import type { BenchRow } from './harness.ts';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: run-one.ts <module.bench.ts>');
const module = (await import(pathToFileURL(file).href)) as { default: () => Promise<BenchRow[]> };
// Machines differ, and so does one machine over a few minutes when it is shared: a module with
// CPU-bound rows gets the machine factor measured just before and just after it, in its process.
const scaled = /(core|limits|audit)\.bench\.ts$/.test(file);
const before = scaled ? (await measureAnchors(true)).factor : undefined;
const rows = await module.default();
if (before !== undefined) {
  const after = (await measureAnchors(true)).factor;
  const factor = Math.round(((before + after) / 2) * 100) / 100;
  console.error(`machine factor ${before} before, ${after} after: ${factor}`);
  for (const row of rows) if (CPU_BOUND.test(row.name)) row.machine_factor = factor;
}
console.log(JSON.stringify(rows));
// Some modules leave clients or timers behind (Redis, MCP transports); the rows are out.
process.exit(0);
