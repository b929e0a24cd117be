import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';
import {
  DEFAULT_THRESHOLD_POLICY,
  evaluateThresholds,
  INITIAL_THRESHOLD_STATE,
  planRelief,
  validatePolicy,
  type ThresholdPolicy,
  type ThresholdState,
} from '../../core/monitoring/memory-thresholds.ts';
import { createAlertWebhook } from './alert-webhook.ts';

const MB = 1024 * 1024;

/** What `readMemory` returns: `process.memoryUsage()` has this shape. */
export interface MemoryReading {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
}

/** A cache the monitor may empty under pressure (the engine's tiered caches fit). */
export interface ReliefCache {
  readonly name: string;
  /** Bytes held in this process. */
  bytes(): number;
  /** Empties the in-process tier; returns the bytes freed. */
  clear(): number;
}

/** One reading with everything derived from it. */
export interface MemorySample extends MemoryReading {
  at: number;
  budgetBytes: number;
  /** RSS over the budget: the figure thresholds are checked against. */
  usage: number;
  usagePct: number;
  /** p99 of event-loop delay since the previous sample, in milliseconds (0 when not running). */
  eventLoopDelayP99Ms: number;
  /** Bytes each relief cache holds, by name. */
  caches: Record<string, number>;
  shedding: boolean;
}

export type MemoryEvent =
  | {
      kind: 'alert';
      level: number;
      at: string;
      usage_pct: number;
      used_mb: number;
      budget_mb: number;
    }
  | {
      kind: 'relief';
      at: string;
      usage_pct: number;
      freed_bytes: number;
      freed: Record<string, number>;
    }
  | { kind: 'shedding'; active: boolean; at: string; usage_pct: number };

export interface MemoryMonitorStats {
  /** Alerts fired, by level. */
  alerts: Record<number, number>;
  /** Relief rounds, and per cache how often it was cleared and the bytes that freed. */
  reliefs: number;
  clears: Record<string, number>;
  bytesFreed: Record<string, number>;
  webhookFailures: number;
}

export interface MemoryMonitorOptions {
  budgetMb: number;
  logger: Logger;
  /** Default `process.memoryUsage()`; tests inject a ramp. */
  readMemory?: () => MemoryReading;
  /**
   * Cleared under pressure in this order: least valuable first. A function when
   * the caches are built after the monitor (the engine asks it for admission).
   */
  caches?: readonly ReliefCache[] | (() => readonly ReliefCache[]);
  /** Every alert, relief and shedding change is POSTed here as JSON (fire-and-forget). */
  webhookUrl?: string;
  webhookTimeoutMs?: number;
  /** Default 1000. */
  intervalMs?: number;
  policy?: Partial<ThresholdPolicy>;
  /** Events kept for `history()` (default 200). */
  historySize?: number;
}

export interface MemoryMonitor {
  /** Samples every `intervalMs` (timer unref'd) and tracks event-loop delay. */
  start(): void;
  stop(): void;
  /** Takes a sample now and acts on it: alerts, relief, shedding. */
  sampleNow(): MemorySample;
  /** The last sample, taking one when there is none yet. */
  latest(): MemorySample;
  /** False while shedding: from `shedAt` until usage falls below `shedAt - margin`. */
  admitHeavy(): boolean;
  history(): MemoryEvent[];
  stats(): MemoryMonitorStats;
  /** Resolves once every webhook POST started so far has settled. */
  flushWebhooks(): Promise<void>;
  readonly budgetBytes: number;
  readonly policy: ThresholdPolicy;
}

const round1 = (n: number) => Math.round(n * 10) / 10;

/**
 * The process memory monitor: samples RSS, heap, external memory, cache
 * bytes and event-loop delay; alerts at the policy's levels (log and
 * webhook, with hysteresis); clears caches at `clearAt`; and refuses heavy
 * work at `shedAt` through `admitHeavy()`.
 */
export function createMemoryMonitor(options: MemoryMonitorOptions): MemoryMonitor {
  const policy = validatePolicy({ ...DEFAULT_THRESHOLD_POLICY, ...options.policy });
  const budgetBytes = options.budgetMb * MB;
  const log = options.logger.child({ component: 'memory-monitor' });
  const readMemory = options.readMemory ?? (() => process.memoryUsage());
  const cachesOption = options.caches ?? [];
  const reliefCaches = typeof cachesOption === 'function' ? cachesOption : () => cachesOption;
  const historySize = options.historySize ?? 200;
  const webhookTimeoutMs = options.webhookTimeoutMs ?? 2_000;
  const intervalMs = options.intervalMs ?? 1_000;

  let state: ThresholdState = INITIAL_THRESHOLD_STATE;
  let last: MemorySample | null = null;
  let timer: NodeJS.Timeout | undefined;
  let loopDelay: IntervalHistogram | undefined;
  const events: MemoryEvent[] = [];
  const stats: MemoryMonitorStats = {
    alerts: Object.fromEntries(policy.alertLevels.map((l) => [l, 0])),
    reliefs: 0,
    clears: {},
    bytesFreed: {},
    webhookFailures: 0,
  };

  const webhook = options.webhookUrl
    ? createAlertWebhook({
        url: options.webhookUrl,
        timeoutMs: webhookTimeoutMs,
        onFailure(error) {
          stats.webhookFailures++;
          log.warn({ err: error }, 'memory alert webhook failed');
        },
      })
    : null;

  const record = (event: MemoryEvent, notify = true) => {
    events.push(event);
    if (events.length > historySize) events.splice(0, events.length - historySize);
    if (notify) webhook?.post({ source: 'memory-engine', pid: process.pid, event });
  };

  // Caches refill while usage stays high, so relief can repeat every sample: only the first
  // clear of an episode (until usage falls below `clearAt - margin`) is a warning and a webhook.
  let reliefAnnounced = false;
  const relieve = (sample: MemorySample, at: string) => {
    const caches = reliefCaches();
    const order = planRelief(
      sample.rss,
      budgetBytes,
      caches.map((c) => ({ name: c.name, bytes: c.bytes() })),
      policy,
    );
    if (order.length === 0) return;
    const freed: Record<string, number> = {};
    for (const name of order) {
      const cache = caches.find((c) => c.name === name);
      if (!cache) continue;
      freed[name] = cache.clear();
      stats.clears[name] = (stats.clears[name] ?? 0) + 1;
      stats.bytesFreed[name] = (stats.bytesFreed[name] ?? 0) + freed[name];
    }
    const total = Object.values(freed).reduce((a, b) => a + b, 0);
    stats.reliefs++;
    const announce = !reliefAnnounced;
    reliefAnnounced = true;
    log[announce ? 'warn' : 'debug'](
      { usage_pct: round1(sample.usagePct), freed, freed_bytes: total },
      `memory at ${round1(sample.usagePct)}% of budget: cleared ${order.join(', ')} cache(s), ${total} bytes freed`,
    );
    record(
      { kind: 'relief', at, usage_pct: round1(sample.usagePct), freed_bytes: total, freed },
      announce,
    );
  };

  const monitor: MemoryMonitor = {
    budgetBytes,
    policy,
    start() {
      if (timer) return;
      loopDelay = monitorEventLoopDelay({ resolution: 20 });
      loopDelay.enable();
      timer = setInterval(() => {
        try {
          monitor.sampleNow();
        } catch (error) {
          log.error({ err: error }, 'memory sample failed');
        }
      }, intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
      loopDelay?.disable();
      loopDelay = undefined;
    },
    sampleNow() {
      const reading = readMemory();
      const now = Date.now();
      const at = new Date(now).toISOString();
      const p99 = loopDelay && loopDelay.count > 0 ? loopDelay.percentile(99) / 1e6 : 0;
      loopDelay?.reset();
      const usage = reading.rss / budgetBytes;
      const sample: MemorySample = {
        at: now,
        rss: reading.rss,
        heapUsed: reading.heapUsed,
        heapTotal: reading.heapTotal,
        external: reading.external,
        budgetBytes,
        usage,
        usagePct: usage * 100,
        eventLoopDelayP99Ms: p99,
        caches: Object.fromEntries(reliefCaches().map((c) => [c.name, c.bytes()])),
        shedding: state.shedding,
      };
      const decision = evaluateThresholds(state, sample.usagePct, policy);
      state = decision.state;
      sample.shedding = state.shedding;
      last = sample;
      const pct = round1(sample.usagePct);
      const usedMb = Math.round(reading.rss / MB);
      for (const level of decision.alerts) {
        stats.alerts[level] = (stats.alerts[level] ?? 0) + 1;
        log.warn(
          { level, usage_pct: pct, used_mb: usedMb, budget_mb: options.budgetMb },
          `memory crossed ${level}% of budget`,
        );
        record({
          kind: 'alert',
          level,
          at,
          usage_pct: pct,
          used_mb: usedMb,
          budget_mb: options.budgetMb,
        });
      }
      for (const level of decision.rearmed) {
        log.info(
          { level, usage_pct: pct },
          `memory back below ${level - policy.margin}%: ${level}% alert re-armed`,
        );
      }
      if (decision.relieve) relieve(sample, at);
      else if (sample.usagePct < policy.clearAt - policy.margin) reliefAnnounced = false;
      if (decision.sheddingChanged !== undefined) {
        const active = decision.sheddingChanged;
        log.warn(
          { usage_pct: pct, shedding: active },
          active
            ? `memory at ${pct}% of budget: refusing uncached complex queries`
            : `memory at ${pct}% of budget: accepting complex queries again`,
        );
        record({ kind: 'shedding', active, at, usage_pct: pct });
      }
      return sample;
    },
    latest: () => last ?? monitor.sampleNow(),
    admitHeavy: () => !state.shedding,
    history: () => [...events],
    stats: () => ({
      ...stats,
      alerts: { ...stats.alerts },
      clears: { ...stats.clears },
      bytesFreed: { ...stats.bytesFreed },
    }),
    flushWebhooks: async () => webhook?.flush(),
  };
  return monitor;
}
