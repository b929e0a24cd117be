import {
  DEFAULT_THRESHOLD_POLICY,
  type ThresholdPolicy,
} from '../../core/monitoring/memory-thresholds.ts';
import type { Metrics } from '../../infra/metrics/metrics.ts';
import type { MemoryEvent, MemoryMonitor } from '../../infra/monitoring/memory-monitor.ts';
import { latencyRows, type HistogramValue, type LatencyRow } from './histogram.ts';

/** What the dashboard reads from the memory monitor. */
export type DashboardMonitor = Pick<MemoryMonitor, 'latest' | 'history' | 'policy'>;

export interface DashboardSources {
  /** The registry `/metrics` serves; without it the request, cache and model figures are null. */
  metrics?: Metrics;
  /** Without it memory is read from this process, with no alerts. */
  monitor?: DashboardMonitor;
  memoryBudgetMb: number;
}

export interface CacheTierView {
  tier: string;
  hits: number;
  misses: number;
  /** Hits over reads that reached this tier; null before the first read. */
  hit_rate: number | null;
}

export interface CacheView {
  cache: string;
  /** Reads answered by any tier over all reads. */
  hit_rate: number | null;
  reads: number;
  tiers: CacheTierView[];
}

/** Everything `GET /dashboard/data` answers. */
export interface DashboardData {
  at: string;
  uptime_s: number;
  memory: {
    source: 'monitor' | 'process';
    rss_bytes: number;
    heap_used_bytes: number;
    heap_total_bytes: number;
    budget_bytes: number;
    usage_pct: number;
    /** The highest alert level usage is at or above; null below the lowest. */
    level: number | null;
    /** 0 below every alert level, then 1 per level reached (the page's colour). */
    severity: number;
    relief: boolean;
    shedding: boolean;
    event_loop_delay_p99_ms: number | null;
    thresholds: { alert_levels: number[]; clear_at: number; shed_at: number; margin: number };
  };
  /** Null when metrics are off. */
  requests: { total: number; latency: LatencyRow[] } | null;
  caches: CacheView[] | null;
  model_calls: {
    total: number;
    errors: number;
    /** Calls per minute over `window_s`; null until two readings are a second apart. */
    per_minute: number | null;
    window_s: number;
  } | null;
  /** Narratives waiting; null when unknown. */
  narrative_queue_depth: number | null;
  /** The monitor's latest events, newest first. */
  recent_events: MemoryEvent[];
}

const P = 'memory_engine_';
const RECENT_EVENTS = 12;
const RATE_WINDOW_MS = 60_000;
const TIERS = ['l1', 'l2', 'l3'];
const round1 = (n: number) => Math.round(n * 10) / 10;

type Series = { value: number; labels: Partial<Record<string, string | number>> };

async function read(metrics: Metrics, name: string): Promise<Series[]> {
  const metric = metrics.registry.getSingleMetric(`${P}${name}`);
  return metric ? ((await metric.get()).values as Series[]) : [];
}

/** Model calls per minute from successive readings of the call counter, over the last minute. */
function rateWindow() {
  const readings: { at: number; total: number }[] = [];
  return (total: number, at: number) => {
    readings.push({ at, total });
    // Keep one reading at or before the window's start as the baseline.
    while (readings.length > 2 && readings[1]!.at <= at - RATE_WINDOW_MS) readings.shift();
    const base = readings[0]!;
    const span = at - base.at;
    return {
      per_minute: span < 1_000 ? null : round1((Math.max(0, total - base.total) * 60_000) / span),
      window_s: Math.round(span / 1000),
    };
  };
}

function cacheViews(hits: Series[], misses: Series[]): CacheView[] {
  const counts = new Map<string, Map<string, { hits: number; misses: number }>>();
  const add = (series: Series[], field: 'hits' | 'misses') => {
    for (const s of series) {
      const cache = String(s.labels.cache);
      const tier = String(s.labels.tier);
      const tiers = counts.get(cache) ?? new Map<string, { hits: number; misses: number }>();
      counts.set(cache, tiers);
      const entry = tiers.get(tier) ?? { hits: 0, misses: 0 };
      tiers.set(tier, entry);
      entry[field] += s.value;
    }
  };
  add(hits, 'hits');
  add(misses, 'misses');
  const rate = (h: number, m: number) => (h + m > 0 ? h / (h + m) : null);
  return [...counts]
    .map(([cache, tiers]) => {
      const views = TIERS.filter((t) => tiers.has(t)).map((tier) => {
        const { hits: h, misses: m } = tiers.get(tier)!;
        return { tier, hits: h, misses: m, hit_rate: rate(h, m) };
      });
      // Every read reaches the first tier; a miss there goes on to the next.
      const first = views[0];
      const reads = first ? first.hits + first.misses : 0;
      const answered = views.reduce((sum, v) => sum + v.hits, 0);
      return { cache, hit_rate: reads > 0 ? answered / reads : null, reads, tiers: views };
    })
    .sort((a, b) => a.cache.localeCompare(b.cache));
}

function memoryView(
  sources: DashboardSources,
  policy: ThresholdPolicy,
): DashboardData['memory'] & { at: number } {
  const budgetBytes = sources.memoryBudgetMb * 1024 * 1024;
  const sample = sources.monitor?.latest() ?? {
    ...process.memoryUsage(),
    at: Date.now(),
    budgetBytes,
    usagePct: (process.memoryUsage().rss / budgetBytes) * 100,
    shedding: false,
    eventLoopDelayP99Ms: null,
  };
  const reached = policy.alertLevels.filter((level) => sample.usagePct >= level);
  return {
    at: sample.at,
    source: sources.monitor ? 'monitor' : 'process',
    rss_bytes: sample.rss,
    heap_used_bytes: sample.heapUsed,
    heap_total_bytes: sample.heapTotal,
    budget_bytes: sample.budgetBytes,
    usage_pct: round1(sample.usagePct),
    level: reached.at(-1) ?? null,
    severity: reached.length,
    relief: sample.usagePct >= policy.clearAt,
    shedding: sample.shedding,
    event_loop_delay_p99_ms:
      sample.eventLoopDelayP99Ms === null ? null : round1(sample.eventLoopDelayP99Ms),
    thresholds: {
      alert_levels: [...policy.alertLevels],
      clear_at: policy.clearAt,
      shed_at: policy.shedAt,
      margin: policy.margin,
    },
  };
}

/**
 * The dashboard's figures, read from the same registry `/metrics` serves and
 * the same monitor sample the memory gauges report, so the two always agree.
 * Holds only the model-call readings its per-minute rate needs.
 */
export function createDashboardData(sources: DashboardSources): () => Promise<DashboardData> {
  const modelRate = rateWindow();
  const policy = sources.monitor?.policy ?? DEFAULT_THRESHOLD_POLICY;
  const modelCalls = async (metrics: Metrics) =>
    (await read(metrics, 'model_calls_total')).reduce((sum, s) => sum + s.value, 0);
  // A first reading now, so a page opened after a minute of uptime shows a full minute's rate.
  if (sources.metrics) {
    const started = Date.now();
    void modelCalls(sources.metrics).then((total) => modelRate(total, started));
  }
  return async () => {
    const { at, ...memory } = memoryView(sources, policy);
    const { metrics } = sources;
    const base = {
      at: new Date(at).toISOString(),
      uptime_s: Math.round(process.uptime()),
      memory,
      recent_events: (sources.monitor?.history() ?? []).slice(-RECENT_EVENTS).reverse(),
    };
    if (!metrics) {
      return {
        ...base,
        requests: null,
        caches: null,
        model_calls: null,
        narrative_queue_depth: null,
      };
    }
    const [http, hits, misses, calls, queue] = await Promise.all([
      read(metrics, 'http_request_duration_seconds'),
      read(metrics, 'cache_hits_total'),
      read(metrics, 'cache_misses_total'),
      read(metrics, 'model_calls_total'),
      read(metrics, 'narrative_queue_depth'),
    ]);
    const latency = latencyRows(http as HistogramValue[]);
    const total = calls.reduce((sum, s) => sum + s.value, 0);
    const errors = calls.filter((s) => s.labels.outcome !== 'ok').reduce((n, s) => n + s.value, 0);
    const depth = queue[0]?.value;
    return {
      ...base,
      requests: { total: latency.reduce((sum, row) => sum + row.count, 0), latency },
      caches: cacheViews(hits, misses),
      model_calls: { total, errors, ...modelRate(total, Date.now()) },
      narrative_queue_depth: depth === undefined || Number.isNaN(depth) ? null : depth,
    };
  };
}
