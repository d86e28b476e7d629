// Runs every benchmark module in bench/ (files ending in .bench.ts) and prints, as the last line,
// one JSON object: { node, results: [{ name, median_ns, p99_ns, ... }] }. Human-readable progress
// goes to stderr. Pass names to run a subset: `npm run bench -- core audit`.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchRow } from './harness.ts';

const only = process.argv.slice(2);
const dir = import.meta.dirname;
const files = readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => only.length === 0 || only.some((name) => file.startsWith(name)))
  .sort();
const results: BenchRow[] = [];
for (const file of files) {
  console.error(`\n# ${file}`);
  const module = (await import(pathToFileURL(join(dir, file)).href)) as {
    default: () => Promise<BenchRow[]>;
  };
  results.push(...(await module.default()));
}
console.log(JSON.stringify({ node: process.version, results }));
