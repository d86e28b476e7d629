// Runs one benchmark module (its path is the argument) and prints its rows as one JSON line on
// stdout; progress goes to stderr. Started by bench/index.ts, one process per module.
import { pathToFileURL } from 'node:url';
import type { BenchRow } from './harness.ts';

const file = process.argv[2];
if (file === undefined) throw new Error('usage: run-one.ts <module.bench.ts>');
const module = (await import(pathToFileURL(file).href)) as { default: () => Promise<BenchRow[]> };
const rows = await module.default();
console.log(JSON.stringify(rows));
// Some modules leave clients or timers behind (Redis, MCP transports); the rows are out.
process.exit(0);
