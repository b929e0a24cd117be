import type { TargetSnapshot, TargetUsage } from './types.ts';

const MB = 1024 * 1024;

/** Reads `X-Memory-Usage: <rss MB>/<budget MB> MB (<pct>%)`; null when absent or malformed. */
export function parseMemoryHeader(
  value: string | null | undefined,
): { rssMb: number; budgetMb: number } | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*\/\s*(\d+(?:\.\d+)?)\s*MB/.exec(value ?? '');
  return m ? { rssMb: Number(m[1]), budgetMb: Number(m[2]) } : null;
}

/** The value of an unlabelled sample (or the sum over its labels) in Prometheus text; null when absent. */
export function promValue(text: string, name: string): number | null {
  let found = false;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    const afterLabels = rest[0] === '{' ? rest.slice(rest.indexOf('}') + 1) : rest;
    const value = Number(afterLabels.trim().split(/\s+/)[0]);
    if (Number.isFinite(value)) {
      found = true;
      sum += value;
    }
  }
  return found ? sum : null;
}

/** What a `/metrics` scrape says about the target process. */
export function snapshotFromMetrics(text: string): TargetSnapshot {
  // The live reading first; the monitor's gauge is its last sample (up to a second old).
  const rss =
    promValue(text, 'process_resident_memory_bytes') ??
    promValue(text, 'memory_engine_memory_rss_bytes');
  const budget = promValue(text, 'memory_engine_memory_budget_bytes');
  return {
    rssMb: rss === null ? null : Math.round((rss / MB) * 10) / 10,
    budgetMb: budget === null ? null : Math.round(budget / MB),
    cpuSecondsTotal: promValue(text, 'process_cpu_seconds_total'),
  };
}

/**
 * Follows the target's memory through a scenario: the scrape at its start and
 * end, and every `X-Memory-Usage` header in between (for the peak).
 */
export function createUsageTracker(start: TargetSnapshot) {
  let peak = start.rssMb;
  let latest = start.rssMb;
  let budget = start.budgetMb;
  return {
    observeHeader(value: string | null | undefined) {
      const m = parseMemoryHeader(value);
      if (!m) return;
      latest = m.rssMb;
      peak = peak === null ? m.rssMb : Math.max(peak, m.rssMb);
      budget ??= m.budgetMb;
    },
    get peakMb() {
      return peak;
    },
    get latestMb() {
      return latest;
    },
    finish(end: TargetSnapshot): TargetUsage {
      const endRss = end.rssMb;
      const rssPeak = endRss === null ? peak : peak === null ? endRss : Math.max(peak, endRss);
      return {
        rssStartMb: start.rssMb,
        rssPeakMb: rssPeak,
        rssEndMb: endRss,
        budgetMb: budget ?? end.budgetMb,
        cpuSeconds:
          start.cpuSecondsTotal !== null && end.cpuSecondsTotal !== null
            ? Math.round((end.cpuSecondsTotal - start.cpuSecondsTotal) * 1000) / 1000
            : null,
      };
    },
  };
}
