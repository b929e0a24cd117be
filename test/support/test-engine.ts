import { loadConfig, type Config } from '../../infra/config.ts';
import { createEngineAdapters, type EngineAdapters } from '../../app/engine-adapters.ts';
import { createLogger } from '../../infra/logger.ts';
import { createTempDir } from './temp-dir.ts';
import { requireTestEnv } from './test-env.ts';

export interface TestEngine extends EngineAdapters {
  config: Config;
}

/**
 * The engine's real adapters for a test: PGlite in a fresh directory, or the
 * per-run PostgreSQL 18 database with pgvector. Extra settings override the
 * defaults (for example a Gemini emulator's URL).
 */
export async function createTestEngine(
  kind: 'pglite' | 'postgres',
  env: Record<string, string> = {},
): Promise<TestEngine> {
  const dataDir = await createTempDir('engine-');
  const config = loadConfig({
    DATA_DIR: dataDir.path,
    LOG_LEVEL: 'silent',
    EMBED_BATCH_WINDOW_MS: '5',
    ...(kind === 'postgres'
      ? { DATABASE_URL: requireTestEnv('TEST_PGVECTOR_URL') }
      : { STORE: 'pglite' }),
    ...env,
  });
  const engine = await createEngineAdapters(config, createLogger('silent'));
  return {
    ...engine,
    config,
    async close() {
      await engine.close();
      await dataDir.remove();
    },
  };
}
