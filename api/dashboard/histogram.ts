/** One cumulative bucket of a Prometheus histogram: observations at or below `le`. */
export interface Bucket {
  le: number;
  count: number;
}

/**
 * The `q` quantile (0..1) of a cumulative histogram, estimated as Prometheus's
 * `histogram_quantile` does: linear interpolation inside the bucket the rank
 * falls in, the first bucket starting at 0, and the largest finite bound when
 * the rank falls in `+Inf`. Null when the histogram is empty.
 */
export function histogramQuantile(q: number, buckets: readonly Bucket[]): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  const total = sorted.at(-1)?.count ?? 0;
  if (total === 0) return null;
  const rank = q * total;
  let lower = 0;
  let below = 0;
  for (const bucket of sorted) {
    if (bucket.count >= rank) {
      if (!Number.isFinite(bucket.le)) return lower;
      const inBucket = bucket.count - below;
      return inBucket === 0 ? bucket.le : lower + ((bucket.le - lower) * (rank - below)) / inBucket;
    }
    lower = bucket.le;
    below = bucket.count;
  }
  return lower;
}

/** A histogram series as prom-client's `get()` returns it. */
export interface HistogramValue {
  metricName?: string;
  value: number;
  labels: Partial<Record<string, string | number>>;
}

export interface LatencyRow {
  route: string;
  message_class: string;
  count: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

const ms = (seconds: number | null) =>
  seconds === null ? null : Math.round(seconds * 10_000) / 10;

/**
 * Latency percentiles per route and message class from the HTTP histogram's
 * buckets, summed over method and status first (bucket counts add up; the
 * percentiles of parts do not). Busiest first.
 */
export function latencyRows(values: readonly HistogramValue[]): LatencyRow[] {
  const groups = new Map<string, { route: string; cls: string; buckets: Map<number, number> }>();
  for (const v of values) {
    if (!v.metricName?.endsWith('_bucket')) continue;
    const route = String(v.labels.route ?? 'unmatched');
    const cls = String(v.labels.message_class ?? 'none');
    const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
    const key = `${route}\u0000${cls}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { route, cls, buckets: new Map() }));
    group.buckets.set(le, (group.buckets.get(le) ?? 0) + v.value);
  }
  return [...groups.values()]
    .map(({ route, cls, buckets }) => {
      const list = [...buckets].map(([le, count]) => ({ le, count }));
      return {
        route,
        message_class: cls,
        count: buckets.get(Infinity) ?? 0,
        p50_ms: ms(histogramQuantile(0.5, list)),
        p95_ms: ms(histogramQuantile(0.95, list)),
        p99_ms: ms(histogramQuantile(0.99, list)),
      };
    })
    .filter((row) => row.count > 0)
    .sort((a, b) => b.count - a.count || a.route.localeCompare(b.route));
}
