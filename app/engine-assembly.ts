import type { Logger } from 'pino';
import type { Config } from '../infra/config.ts';
import type { Metrics } from '../infra/metrics/metrics.ts';
import { createEngineAdapters, databaseUrlFor, type EngineAdapters } from './engine-adapters.ts';
import { isParentsLocalDatabase } from './layout-child.ts';
import { ensureLocalModel } from './model-adapters.ts';
import type { Shutdown } from './shutdown.ts';

/**
 * Opens every port the engine runs over. The local sentence model is
 * installed on first start (once; see `ensureLocalModel`); with metrics on, every
 * model call (planning, extraction, narratives) is counted and timed.
 * `embeddedUrl` is the URL of the local PostgreSQL this process runs, if any
 * (see {@link databaseUrlFor}).
 */
export async function openEngine(
  config: Config,
  logger: Logger,
  shutdown: Shutdown,
  metrics: Metrics | undefined,
  embeddedUrl?: string,
): Promise<EngineAdapters> {
  // Before the model install, so a process without a database fails at once.
  const databaseUrl = databaseUrlFor(config, embeddedUrl);
  await ensureLocalModel(config, (msg) => logger.info({ component: 'local-model' }, msg));
  // The local PostgreSQL run here, or by this process's layout parent, on this machine.
  const localServer =
    (embeddedUrl !== undefined && databaseUrl === embeddedUrl) ||
    isParentsLocalDatabase(databaseUrl);
  const adapters = await createEngineAdapters(config, logger, databaseUrl, localServer);
  shutdown.add('engine adapters', () => adapters.close());
  return metrics && adapters.model
    ? { ...adapters, model: metrics.instrumentModel(adapters.model) }
    : adapters;
}
