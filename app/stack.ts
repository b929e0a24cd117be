// app/: the wiring that assembles adapters and starts processes: the stack
// (Temporal, engine, workers, schedules, API) in start order, and the shutdown
// in reverse. May import every product room (api/, workers/, infra/, core/, …);
// nothing in the product imports app/. Started by scripts/.
import type { Logger } from 'pino';
import type { Config } from '../infra/config.ts';
import type { SupervisedStatus, Supervisor } from '../infra/process/supervisor.ts';
import type { RunningWorker } from '../workers/worker.ts';
import { ensureBackgroundWork } from './background-schedules.ts';
import { openEngine } from './engine-assembly.ts';
import { installRuntimeAndMetrics, startMemoryMonitor } from './observability.ts';
import { createShutdown } from './shutdown.ts';
import { startApi } from './start-api.ts';
import { startWorkers } from './start-workers.ts';
import {
  connectTemporal,
  startEmbeddedTemporal,
  type EmbeddedTemporal,
} from './temporal-services.ts';

export type StackRole = 'all' | 'api' | 'worker';

export interface Stack {
  apiUrl: string | null;
  temporalAddress: string;
  temporalUiUrl: string | null;
  /** The services this process started and restarts when they die (the Temporal dev server). */
  services(): SupervisedStatus[];
  /** Shuts down in reverse order: API, worker (drains), connections, store, dev server. */
  stop(): Promise<void>;
}

/**
 * Brings up the parts of the product `role` asks for. With role `all` and no
 * `TEMPORAL_ADDRESS`, it also installs (once) and starts a Temporal dev server
 * whose history lives under the data directory.
 */
export async function startStack(config: Config, logger: Logger, role: StackRole): Promise<Stack> {
  const shutdown = createShutdown(logger);
  try {
    const metrics = await installRuntimeAndMetrics(config, logger, role);
    const observed = startMemoryMonitor(config, logger, shutdown);
    let devServer: EmbeddedTemporal | undefined;
    if (role === 'all' && config.embeddedTemporal) {
      devServer = await startEmbeddedTemporal(config, logger, shutdown);
    }
    const engine = await openEngine(config, logger, shutdown, metrics);
    const temporal = await connectTemporal(config, logger, shutdown, metrics);
    const services: Supervisor[] = devServer ? [devServer.supervisor] : [];

    let workers: RunningWorker[] = [];
    if (role !== 'api') {
      workers = await startWorkers(config, logger, shutdown, {
        engine,
        temporal,
        monitor: observed.monitor,
      });
      await ensureBackgroundWork(config, logger, temporal.client, engine.spaces);
    }
    const apiUrl =
      role === 'worker'
        ? null
        : await startApi(config, logger, shutdown, {
            engine,
            temporal,
            observed,
            metrics,
            workers,
            services,
          });

    return {
      apiUrl,
      temporalAddress: config.temporalAddress,
      temporalUiUrl: devServer?.uiUrl ?? null,
      services: () => services.map((s) => s.status()),
      stop: () => shutdown.stop(),
    };
  } catch (error) {
    await shutdown.stop();
    throw error;
  }
}
