// app/: the wiring that assembles adapters and starts processes: the stack
// (Temporal, engine, workers, schedules, API) in start order, and the shutdown
// in reverse. May import every product room (api/, workers/, infra/, core/, …);
// nothing in the product imports app/. Started by scripts/.
import type { Logger } from 'pino';
import type { Config } from '../infra/config.ts';
import type { SupervisedStatus, Supervisor } from '../infra/process/supervisor.ts';
import type { RunningWorker } from '../workers/worker.ts';
import { ensureBackgroundWork } from './background-schedules.ts';
import { databaseUrlFor } from './engine-adapters.ts';
import { openEngine } from './engine-assembly.ts';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embedded-postgres.ts';
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
  /** The services this process started and restarts when they die (PostgreSQL, the Temporal dev server). */
  services(): SupervisedStatus[];
  /** Shuts down in reverse order: API, worker (drains), connections, store, dev server, PostgreSQL. */
  stop(): Promise<void>;
}

/**
 * Brings up the parts of the product `role` asks for. With role `all` and no
 * `TEMPORAL_ADDRESS`, it also installs (once) and starts a Temporal dev server
 * whose history lives under the data directory; with role `all`, no
 * `DATABASE_URL` and `STORE=postgres` (the default), likewise a local
 * PostgreSQL 18 with pgvector. Roles `api` and `worker` run no servers.
 */
export async function startStack(config: Config, logger: Logger, role: StackRole): Promise<Stack> {
  // An API or worker process of its own cannot share a server another process supervises unnamed.
  if (role !== 'all') databaseUrlFor(config);
  const shutdown = createShutdown(logger);
  try {
    const metrics = await installRuntimeAndMetrics(config, logger, role);
    const observed = startMemoryMonitor(config, logger, shutdown);
    // Registered before the engine, so it stops after the engine's connections close.
    let postgres: EmbeddedPostgres | undefined;
    if (role === 'all' && config.database === 'embedded') {
      postgres = await startEmbeddedPostgres(config, logger, shutdown);
    }
    let devServer: EmbeddedTemporal | undefined;
    if (role === 'all' && config.embeddedTemporal) {
      devServer = await startEmbeddedTemporal(config, logger, shutdown);
    }
    const engine = await openEngine(config, logger, shutdown, metrics, postgres?.url);
    const temporal = await connectTemporal(config, logger, shutdown, metrics);
    const services: Supervisor[] = [postgres?.supervisor, devServer?.supervisor].filter(
      (s): s is Supervisor => s !== undefined,
    );

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
