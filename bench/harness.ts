import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
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

/** A call measured by `paired`, with an optional untimed step after each of its batches. */
export interface Contestant {
  readonly name: string;
  readonly call: () => unknown;
  /** Run after each batch, untimed: e.g. let the call's background writes finish. */
  readonly settle?: () => Promise<unknown>;
}

/** Per-call samples (ns) of one contestant of `paired`, and the median of each of its batches. */
export interface Samples {
  readonly samples: Float64Array;
  readonly batchMedians: readonly number[];
}

/**
 * Times every call of several contestants on its own, in alternating batches (`rounds` batches of
 * `batch` calls each, the order reversed every round), with a young-generation collection before
 * each batch when `gc` can be exposed: load that comes and goes on a shared machine hits all of
 * them alike, and one contestant's young garbage is not collected inside another's samples. (A
 * full collection there made V8 revise its allocation decisions every batch, which slowed the
 * first calls after it and not the steady state being measured.)
 */
export async function paired(
  contestants: readonly Contestant[],
  options: { rounds?: number; batch?: number; warmup?: number } = {},
): Promise<Map<string, Samples>> {
  const { rounds = 40, batch = 2_000, warmup = 20_000 } = options;
  const gc = exposeGc();
  for (let i = 0; i < warmup; i++) for (const contestant of contestants) await contestant.call();
  for (const contestant of contestants) await contestant.settle?.();
  const results = new Map<string, { samples: Float64Array; batchMedians: number[] }>();
  for (const contestant of contestants)
    results.set(contestant.name, { samples: new Float64Array(rounds * batch), batchMedians: [] });
  const batchSamples = new Float64Array(batch);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? contestants : [...contestants].reverse();
    for (const contestant of order) {
      gc?.();
      const call = contestant.call;
      for (let i = 0; i < batch; i++) {
        const started = performance.now();
        await call();
        batchSamples[i] = (performance.now() - started) * 1e6;
      }
      const result = results.get(contestant.name)!;
      result.samples.set(batchSamples, round * batch);
      result.batchMedians.push(quantile(Float64Array.from(batchSamples).sort(), 0.5));
      await contestant.settle?.();
    }
  }
  for (const result of results.values()) result.samples.sort();
  return results;
}

/** The row of one contestant of `paired`: per-call median, p99 and mean (ns). */
export function sampleRow(name: string, measured: Samples, extra: Partial<BenchRow> = {}): BenchRow {
  const { samples } = measured;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]!;
  return report({
    name,
    median_ns: Math.round(quantile(samples, 0.5)),
    p99_ns: Math.round(quantile(samples, 0.99)),
    mean_ns: Math.round(sum / samples.length),
    calls: samples.length,
    ...extra,
  });
}

/**
 * How `measured` compares with `floor`, both from the same `paired` run: the ratio of their
 * per-call medians, p99s and means, and the median over batches of the ratio of batch medians.
 */
export function ratioRow(name: string, measured: Samples, floor: Samples): BenchRow {
  const mean = (values: Float64Array) => values.reduce((sum, value) => sum + value, 0) / values.length;
  const round2 = (value: number) => Math.round(value * 100) / 100;
  const perBatch = measured.batchMedians
    .map((value, i) => value / floor.batchMedians[i]!)
    .sort((a, b) => a - b);
  return report({
    name,
    median_ratio: round2(quantile(measured.samples, 0.5) / quantile(floor.samples, 0.5)),
    p99_ratio: round2(quantile(measured.samples, 0.99) / quantile(floor.samples, 0.99)),
    mean_ratio: round2(mean(measured.samples) / mean(floor.samples)),
    batch_median_ratio: round2(perBatch[Math.floor(perBatch.length / 2)] ?? 0),
    measured_median_ns: Math.round(quantile(measured.samples, 0.5)),
    measured_p99_ns: Math.round(quantile(measured.samples, 0.99)),
    floor_median_ns: Math.round(quantile(floor.samples, 0.5)),
    floor_p99_ns: Math.round(quantile(floor.samples, 0.99)),
  });
}

/** The value at quantile `q` of sorted samples. */
export function quantile(sorted: Float64Array | readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** A young-generation collection, exposed for the benchmarks, or undefined where that is refused. */
function exposeGc(): (() => void) | undefined {
  type Gc = (options?: { type: 'minor' | 'major' }) => void;
  let gc = (globalThis as { gc?: Gc }).gc;
  if (typeof gc !== 'function') {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as Gc;
    } catch {
      return undefined;
    }
  }
  const collect = gc;
  return () => collect({ type: 'minor' });
}
