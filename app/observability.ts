import type { Logger } from 'pino';
import type { Config } from '../infra/config.ts';
import { createMetrics, type Metrics } from '../infra/metrics/metrics.ts';
import {
  createMemoryMonitor,
  type MemoryMonitor,
  type ReliefCache,
} from '../infra/monitoring/memory-monitor.ts';
import { freePort } from '../infra/process/service-tools.ts';
import { installTemporalRuntime } from '../infra/temporal/runtime-logger.ts';
import type { Shutdown } from './shutdown.ts';
import type { StackRole } from './stack.ts';

/**
 * Installs the Temporal runtime (its logs go to `logger`) and, when metrics are
 * enabled, the registry `/metrics` serves. Worker processes have Temporal Core
 * serve its metrics, which `/metrics` appends (an explicit TEMPORAL_METRICS_PORT
 * binds on HOST, so a worker-only process can be scraped).
 */
export async function installRuntimeAndMetrics(
  config: Config,
  logger: Logger,
  role: StackRole,
): Promise<Metrics | undefined> {
  const temporalMetricsBind =
    role === 'api' || !config.METRICS_ENABLED
      ? undefined
      : config.TEMPORAL_METRICS_PORT > 0
        ? `${config.HOST}:${config.TEMPORAL_METRICS_PORT}`
        : `127.0.0.1:${await freePort()}`;
  const { metricsUrl: temporalMetricsUrl } = installTemporalRuntime(
    logger,
    temporalMetricsBind ? { prometheusBindAddress: temporalMetricsBind } : {},
  );
  return config.METRICS_ENABLED
    ? createMetrics(temporalMetricsUrl ? { temporalMetricsUrl } : {})
    : undefined;
}

export interface RunningMonitor {
  monitor: MemoryMonitor;
  /** Sets the caches the monitor clears under pressure (known once the API's engine exists). */
  setReliefCaches(caches: ReliefCache[]): void;
}

/** Starts sampling the process's memory against its budget; stopped (webhooks flushed) on shutdown. */
export function startMemoryMonitor(
  config: Config,
  logger: Logger,
  shutdown: Shutdown,
): RunningMonitor {
  let reliefCaches: ReliefCache[] = [];
  const monitor = createMemoryMonitor({
    budgetMb: config.MEMORY_BUDGET_MB,
    logger,
    intervalMs: config.MEMORY_SAMPLE_INTERVAL_MS,
    webhookTimeoutMs: config.MEMORY_ALERT_WEBHOOK_TIMEOUT_MS,
    ...(config.MEMORY_ALERT_WEBHOOK_URL ? { webhookUrl: config.MEMORY_ALERT_WEBHOOK_URL } : {}),
    caches: () => reliefCaches,
  });
  monitor.start();
  shutdown.add('memory monitor', async () => {
    monitor.stop();
    await monitor.flushWebhooks();
  });
  return {
    monitor,
    setReliefCaches: (caches) => {
      reliefCaches = caches;
    },
  };
}
