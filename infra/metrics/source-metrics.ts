import type { MemorySample } from '../monitoring/memory-monitor.ts';
import type { MetricFactory, Series } from './metric-factory.ts';
import type { MetricsSources } from './metrics.ts';

type CacheSeries = Series<'cache' | 'tier'>;

/**
 * Metrics read from counters the product keeps anyway: the caches' stats, the
 * memory monitor's sample and counts, the narrative queue's depth. Each is
 * read at scrape time, so nothing is counted twice.
 */
export function registerSourceMetrics(metrics: MetricFactory, current: () => MetricsSources): void {
  registerCacheMetrics(metrics, current);
  registerMemoryMetrics(metrics, current);
  registerBackfillMetrics(metrics, current);
  metrics.readGauge(
    'narrative_queue_depth',
    'Narratives waiting to be generated (NaN when unknown)',
    [],
    async () => {
      let depth: number | null = null;
      try {
        depth = (await current().narrativeQueueDepth?.()) ?? null;
      } catch {
        // An unreachable queue is an unknown depth, not a failed scrape.
      }
      return [[{}, depth ?? Number.NaN]];
    },
  );
}

function registerCacheMetrics(metrics: MetricFactory, current: () => MetricsSources): void {
  const cacheStats = () => (current().caches ?? []).map((c) => c.stats());
  const labels = ['cache', 'tier'] as const;
  const tiers = ['l1', 'l2', 'l3'] as const;
  const tierCounter = (field: 'hits' | 'misses' | 'errors', help: string) =>
    metrics.readCounter(`cache_${field}_total`, help, labels, function* (): Iterable<CacheSeries> {
      for (const s of cacheStats()) {
        for (const tier of tiers) {
          const t = s[tier];
          if (t) yield [{ cache: s.name, tier }, t[field]];
        }
      }
    });
  tierCounter('hits', 'Cache reads answered, by cache and tier');
  tierCounter('misses', 'Cache reads not answered, by cache and tier');
  tierCounter('errors', 'Cache tier reads and writes that failed or timed out');

  // The LRU's own figures belong to the in-process tier.
  const lruSeries = (field: 'evictions' | 'expirations' | 'bytes' | 'entries' | 'maxBytes') =>
    function* (): Iterable<CacheSeries> {
      for (const s of cacheStats()) {
        if (s.lru) yield [{ cache: s.name, tier: 'l1' }, s.lru[field]];
      }
    };
  const lruCounter = (field: 'evictions' | 'expirations', help: string) =>
    metrics.readCounter(`cache_${field}_total`, help, labels, lruSeries(field));
  lruCounter('evictions', 'Entries evicted (least recently used) to make room');
  lruCounter('expirations', 'Entries dropped past their TTL');
  const lruGauge = (field: 'bytes' | 'entries' | 'maxBytes', name: string, help: string) =>
    metrics.readGauge(`cache_${name}`, help, labels, lruSeries(field));
  lruGauge('bytes', 'bytes', 'Bytes held in the in-process tier');
  lruGauge('entries', 'entries', 'Entries held in the in-process tier');
  lruGauge('maxBytes', 'max_bytes', 'Byte bound of the in-process tier');
}

function registerMemoryMetrics(metrics: MetricFactory, current: () => MetricsSources): void {
  const memoryGauge = (name: string, help: string, read: (s: MemorySample) => number) =>
    metrics.readGauge(name, help, [], () => {
      const s = current().memory?.latest();
      return s ? [[{}, read(s)]] : [];
    });
  memoryGauge('memory_rss_bytes', 'Resident set size at the last monitor sample', (s) => s.rss);
  memoryGauge('memory_heap_used_bytes', 'V8 heap used', (s) => s.heapUsed);
  memoryGauge('memory_heap_total_bytes', 'V8 heap reserved', (s) => s.heapTotal);
  memoryGauge('memory_external_bytes', 'Memory held outside the V8 heap', (s) => s.external);
  memoryGauge('memory_budget_bytes', 'The process memory budget', (s) => s.budgetBytes);
  memoryGauge('memory_usage_ratio', 'RSS over the budget (1 = the whole budget)', (s) => s.usage);
  memoryGauge('memory_shedding', '1 while complex uncached queries are refused', (s) =>
    s.shedding ? 1 : 0,
  );
  memoryGauge(
    'event_loop_delay_p99_seconds',
    'p99 event-loop delay over the last sample interval',
    (s) => s.eventLoopDelayP99Ms / 1000,
  );

  // The monitor's counts by level or cache, each a record of totals.
  const stats = () => current().memory?.stats();
  metrics.readCounter(
    'memory_alerts_total',
    'Memory alerts fired, by level (percent of budget)',
    ['level'],
    () => countsBy('level', stats()?.alerts),
  );
  metrics.readCounter(
    'cache_clears_total',
    'Times the memory monitor cleared a cache',
    ['cache'],
    () => countsBy('cache', stats()?.clears),
  );
  metrics.readCounter(
    'cache_cleared_bytes_total',
    'Bytes freed by the memory monitor clearing a cache',
    ['cache'],
    () => countsBy('cache', stats()?.bytesFreed),
  );
}

/** A record of totals as series under one label. */
function countsBy<L extends string>(label: L, counts: Record<string, number> | undefined) {
  return Object.entries(counts ?? {}).map(([key, n]): Series<L> => [
    { [label]: key } as Partial<Record<L, string>>,
    n,
  ]);
}

function registerBackfillMetrics(metrics: MetricFactory, current: () => MetricsSources): void {
  const stats = () => current().planBackfill?.() ?? null;
  metrics.readCounter(
    'plan_backfill_total',
    'Messages whose plan fell back, planned again in the background, by outcome',
    ['outcome'],
    function* () {
      const s = stats();
      if (!s) return;
      for (const outcome of ['enqueued', 'deduplicated', 'dropped', 'filled', 'skipped'] as const) {
        yield [{ outcome }, s[outcome]];
      }
    },
  );
  metrics.readCounter(
    'plan_backfill_failures_total',
    'Background plans that fell back again, by why (nothing cached for them)',
    ['reason'],
    () => countsBy('reason', stats()?.failed),
  );
  metrics.readGauge('plan_backfill_queued', 'Messages waiting for a background plan', [], () => {
    const s = stats();
    return s ? [[{}, s.queued]] : [];
  });
  metrics.readGauge('plan_backfill_in_flight', 'Background plan calls in flight', [], () => {
    const s = stats();
    return s ? [[{}, s.inFlight]] : [];
  });
}
