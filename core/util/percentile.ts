/**
 * The nearest-rank percentile (`p` from 0 to 1) of an ascending list; NaN
 * when the list is empty. Load-test reports and benchmarks use the same rule,
 * so their figures compare.
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
