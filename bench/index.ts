// Runs every benchmark module in bench/ (files ending in .bench.ts) and prints, as the last line,
// one JSON object: { node, results: [{ name, median_ns, p99_ns, ... }] }. Human-readable progress
// goes to stderr. Pass names to run a subset: `npm run bench -- core audit`.
//
// Each module runs in a fresh Node process (bench/run-one.ts), with the same flags as this one:
// a module that builds dozens of guards, adapters and engines would otherwise leave the JIT's
// caches polymorphic for the modules after it, and their rows would depend on the order they ran in.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRow } from './harness.ts';

const ANCHORS = 'anchors.bench.ts';
const only = process.argv.slice(2);
const dir = import.meta.dirname;
const files = readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => only.length === 0 || only.some((name) => file.startsWith(name)))
  .sort();
// The machine anchors always run, first: the other rows are scaled by what they measure.
if (!files.includes(ANCHORS)) files.unshift(ANCHORS);
else files.sort((a, b) => Number(b === ANCHORS) - Number(a === ANCHORS));
if (files.length === 0) throw new Error(`no benchmark matches ${only.join(', ')}`);
const results: BenchRow[] = [];
for (const file of files) {
  console.error(`\n# ${file}`);
  const child = spawnSync(process.execPath, [...process.execArgv, join(dir, 'run-one.ts'), join(dir, file)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (child.status !== 0) throw new Error(`${file} failed (exit ${child.status ?? child.signal})`);
  const last = child.stdout.trim().split('\n').pop() ?? '';
  results.push(...(JSON.parse(last) as BenchRow[]));
}
// The machine factor of this run (bench/anchors.bench.ts); CPU-bound rows carry their own,
// measured around their module.
const factor = results.find((row) => row.name === 'anchor.sum')?.machine_factor;
console.log(JSON.stringify({ node: process.version, machine_factor: factor, results }));
