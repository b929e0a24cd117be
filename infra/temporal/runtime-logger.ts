import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';

export interface TemporalRuntimeOptions {
  /**
   * `host:port` where the Temporal Core runtime serves its own Prometheus
   * metrics (workers, pollers, slots, activity and workflow task latencies).
   * Unset: Core exports no metrics.
   */
  prometheusBindAddress?: string;
}

let installed = false;
let metricsUrl: string | null = null;

/**
 * Routes the Temporal SDK's own logs into the process logger, at warn and
 * above unless the process logs at debug, and optionally turns on Core's
 * Prometheus exporter. Installs once per process: later calls change
 * nothing and return what the first one set up.
 */
export function installTemporalRuntime(
  logger: Logger,
  options: TemporalRuntimeOptions = {},
): { metricsUrl: string | null } {
  if (installed) return { metricsUrl };
  installed = true;
  const level: LogLevel = logger.isLevelEnabled('debug') ? 'DEBUG' : 'WARN';
  const child = logger.child({ component: 'temporal' });
  const bindAddress = options.prometheusBindAddress;
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      const meta = entry.meta ?? {};
      if (entry.level === 'ERROR') child.error(meta, entry.message);
      else if (entry.level === 'WARN') child.warn(meta, entry.message);
      else child.debug(meta, entry.message);
    }),
    ...(bindAddress ? { telemetryOptions: { metrics: { prometheus: { bindAddress } } } } : {}),
  });
  metricsUrl = bindAddress ? `http://${bindAddress}/metrics` : null;
  return { metricsUrl };
}
