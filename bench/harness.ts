import { measure } from 'mitata';

/** One row of the JSON summary printed by `npm run bench`. */
export interface BenchRow {
  name: string;
  median_ns?: number;
  p99_ns?: number;
  /** Other units, e.g. records_per_s, calls_per_s, peak_rss_mb. */
  [unit: string]: number | string | undefined;
}

/**
 * Measures an (a)sync function with mitata; returns median and p99 per sample in nanoseconds.
 *
 * mitata times calls one by one, or in batches of 4,096 (a sample is then the batch's mean) when
 * its first calls are fast; which one it picks depends on how warm the function is. With
 * `perCall`, the function is warmed up first and every sample is one call, so `median_ns` and
 * `p99_ns` are the per-call latency distribution (garbage-collection pauses in the tail), and
 * `mean_ns` the cost per call with those pauses spread over every call.
 */
export async function time(
  name: string,
  fn: () => unknown,
  options: { perCall?: boolean } = {},
): Promise<BenchRow> {
  if (options.perCall) for (let i = 0; i < 20_000; i++) await fn();
  const stats = await measure(
    fn as () => void,
    (options.perCall
      ? { min_cpu_time: 300 * 1e6, batch_threshold: -1 }
      : { min_cpu_time: 300 * 1e6 }) as never,
  );
  const row: BenchRow = { name, median_ns: Math.round(stats.p50), p99_ns: Math.round(stats.p99) };
  if (options.perCall) row.mean_ns = Math.round(stats.avg);
  console.error(
    `${name.padEnd(40)} median ${fmt(stats.p50)}  p99 ${fmt(stats.p99)}${options.perCall ? `  mean ${fmt(stats.avg)}` : ''}`,
  );
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
