import { Counter, Gauge, type Registry } from 'prom-client';
import type { MemorySample } from '../monitoring/memory-monitor.ts';
import type { MetricsSources } from './metrics.ts';

/**
 * Metrics read from counters the product keeps anyway: the caches' stats, the
 * memory monitor's sample and counts, the narrative queue's depth. Each is
 * read by `collect()` at scrape time, so nothing is counted twice.
 */
export function registerSourceMetrics(
  registry: Registry,
  prefix: string,
  current: () => MetricsSources,
): void {
  const registers = [registry];
  const cacheStats = () => (current().caches ?? []).map((c) => c.stats());
  const tiers = ['l1', 'l2', 'l3'] as const;
  const tierCounter = (field: 'hits' | 'misses' | 'errors', help: string) =>
    new Counter({
      name: `${prefix}cache_${field}_total`,
      help,
      labelNames: ['cache', 'tier'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of cacheStats()) {
          for (const tier of tiers) {
            const t = s[tier];
            if (t) this.inc({ cache: s.name, tier }, t[field]);
          }
        }
      },
    });
  tierCounter('hits', 'Cache reads answered, by cache and tier');
  tierCounter('misses', 'Cache reads not answered, by cache and tier');
  tierCounter('errors', 'Cache tier reads and writes that failed or timed out');
  const lruCounter = (field: 'evictions' | 'expirations', help: string) =>
    new Counter({
      name: `${prefix}cache_${field}_total`,
      help,
      labelNames: ['cache', 'tier'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of cacheStats()) {
          if (s.lru) this.inc({ cache: s.name, tier: 'l1' }, s.lru[field]);
        }
      },
    });
  lruCounter('evictions', 'Entries evicted (least recently used) to make room');
  lruCounter('expirations', 'Entries dropped past their TTL');
  const lruGauge = (field: 'bytes' | 'entries' | 'maxBytes', name: string, help: string) =>
    new Gauge({
      name: `${prefix}cache_${name}`,
      help,
      labelNames: ['cache', 'tier'] as const,
      registers,
      collect() {
        this.reset();
        for (const s of cacheStats()) {
          if (s.lru) this.set({ cache: s.name, tier: 'l1' }, s.lru[field]);
        }
      },
    });
  lruGauge('bytes', 'bytes', 'Bytes held in the in-process tier');
  lruGauge('entries', 'entries', 'Entries held in the in-process tier');
  lruGauge('maxBytes', 'max_bytes', 'Byte bound of the in-process tier');

  const sample = () => current().memory?.latest();
  const memoryGauge = (name: string, help: string, read: (s: MemorySample) => number) =>
    new Gauge({
      name: `${prefix}${name}`,
      help,
      registers,
      collect() {
        const s = sample();
        if (s) this.set(read(s));
      },
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

  const monitorStats = () => current().memory?.stats();
  new Counter({
    name: `${prefix}memory_alerts_total`,
    help: 'Memory alerts fired, by level (percent of budget)',
    labelNames: ['level'] as const,
    registers,
    collect() {
      this.reset();
      for (const [level, n] of Object.entries(monitorStats()?.alerts ?? {})) {
        this.inc({ level }, n);
      }
    },
  });
  new Counter({
    name: `${prefix}cache_clears_total`,
    help: 'Times the memory monitor cleared a cache',
    labelNames: ['cache'] as const,
    registers,
    collect() {
      this.reset();
      for (const [cache, n] of Object.entries(monitorStats()?.clears ?? {})) this.inc({ cache }, n);
    },
  });
  new Counter({
    name: `${prefix}cache_cleared_bytes_total`,
    help: 'Bytes freed by the memory monitor clearing a cache',
    labelNames: ['cache'] as const,
    registers,
    collect() {
      this.reset();
      for (const [cache, n] of Object.entries(monitorStats()?.bytesFreed ?? {})) {
        this.inc({ cache }, n);
      }
    },
  });
  new Gauge({
    name: `${prefix}narrative_queue_depth`,
    help: 'Narratives waiting to be generated (NaN when unknown)',
    registers,
    async collect() {
      let depth: number | null = null;
      try {
        depth = (await current().narrativeQueueDepth?.()) ?? null;
      } catch {
        // An unreachable queue is an unknown depth, not a failed scrape.
      }
      this.set(depth ?? Number.NaN);
    },
  });
}
