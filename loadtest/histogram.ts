import { percentile } from '../core/util/percentile.ts';
import type { HistogramData, LatencySummary } from './types.ts';

/** Upper bounds in ms, from 5 ms to 30 s. */
export const LATENCY_BOUNDS_MS = [
  5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
] as const;

const round2 = (v: number) => Math.round(v * 100) / 100;

/** Count, p50/p95/p99, mean and max of latencies in ms; nulls when there are none. */
export function summarizeLatencies(values: readonly number[]): LatencySummary {
  if (values.length === 0) {
    return { count: 0, p50: null, p95: null, p99: null, mean: null, max: null };
  }
  const sorted = [...values].sort((a, b) => a - b);
  return {
    count: sorted.length,
    p50: round2(percentile(sorted, 0.5)),
    p95: round2(percentile(sorted, 0.95)),
    p99: round2(percentile(sorted, 0.99)),
    mean: round2(sorted.reduce((s, v) => s + v, 0) / sorted.length),
    max: round2(sorted[sorted.length - 1]!),
  };
}

/** Buckets latencies by `bounds` (upper bounds, inclusive), plus an overflow bucket. */
export function histogramOf(
  values: readonly number[],
  bounds: readonly number[] = LATENCY_BOUNDS_MS,
): HistogramData {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  for (const v of values) {
    const i = bounds.findIndex((b) => v <= b);
    counts[i === -1 ? bounds.length : i]!++;
  }
  return { boundsMs: [...bounds], counts };
}
