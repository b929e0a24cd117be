import type { Logger } from 'pino';
import { DEFAULT_MINILM_DIR, type Config } from '../infra/config.ts';
import { ensureMiniLmModel } from '../infra/local/minilm/install.ts';
import type { Metrics } from '../infra/metrics/metrics.ts';
import { projectRoot } from '../infra/project-root.ts';
import { createEngineAdapters, type EngineAdapters } from './engine-adapters.ts';
import type { Shutdown } from './shutdown.ts';

/**
 * Opens every port the engine runs over. The local sentence model is
 * installed on first start (a few minutes, once); with metrics on, every
 * model call (planning, extraction, narratives) is counted and timed.
 */
export async function openEngine(
  config: Config,
  logger: Logger,
  shutdown: Shutdown,
  metrics: Metrics | undefined,
): Promise<EngineAdapters> {
  if (config.embedderKind === 'local' && config.MINILM_MODEL_DIR === DEFAULT_MINILM_DIR) {
    await ensureMiniLmModel({
      projectRoot,
      log: (msg) => logger.info({ component: 'minilm' }, msg),
    });
  }
  const adapters = await createEngineAdapters(config, logger);
  shutdown.add('engine adapters', () => adapters.close());
  return metrics && adapters.model
    ? { ...adapters, model: metrics.instrumentModel(adapters.model) }
    : adapters;
}
