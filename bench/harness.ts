import { measure } from 'mitata';

/** One row of the JSON summary printed by `npm run bench`. */
export interface BenchRow {
  name: string;
  median_ns?: number;
  p99_ns?: number;
  /** Other units, e.g. records_per_s, calls_per_s, peak_rss_mb. */
  [unit: string]: number | string | undefined;
}

/** Measures an (a)sync function with mitata; returns median and p99 per call in nanoseconds. */
export async function time(name: string, fn: () => unknown): Promise<BenchRow> {
  const stats = await measure(fn as () => void, { min_cpu_time: 300 * 1e6 } as never);
  const row: BenchRow = { name, median_ns: Math.round(stats.p50), p99_ns: Math.round(stats.p99) };
  console.error(`${name.padEnd(40)} median ${fmt(stats.p50)}  p99 ${fmt(stats.p99)}`);
  return row;
}

/** Prints a row measured in its own unit (throughput etc.). */
export function report(row: BenchRow): BenchRow {
  const parts = Object.entries(row)
    .filter(([key]) => key !== 'name')
    .map(([key, value]) => `${key} ${value}`);
  console.error(`${row.name.padEnd(40)} ${parts.join('  ')}`);
  return row;
}

function fmt(ns: number): string {
  return ns >= 1e6
    ? `${(ns / 1e6).toFixed(2)} ms`
    : ns >= 1e3
      ? `${(ns / 1e3).toFixed(2)} µs`
      : `${ns.toFixed(0)} ns`;
}
