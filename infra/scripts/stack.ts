import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { createApp } from '../../api/app.ts';
import type { ReadinessCheck } from '../../api/health.routes.ts';
import { startServer } from '../../api/server.ts';
import { startWorker, type RunningWorker } from '../../workers/worker.ts';
import type { Config } from '../config.ts';
import { createV1 } from '../../api/v1.ts';
import { createEngine } from '../../core/engine.ts';
import { createEngineAdapters } from '../engine-adapters.ts';
import { engineSettings } from '../engine-settings.ts';
import { ensureTemporalCli } from '../dev/temporal-cli.ts';
import { startTemporalDevServer, type TemporalDevServer } from '../dev/temporal-dev-server.ts';
import {
  createTemporalClient,
  createTemporalProbe,
  createWorkerConnection,
  pingTemporal,
} from '../temporal/connection.ts';
import { installTemporalRuntime } from '../temporal/runtime-logger.ts';
import { ensureIndexReconcilerSchedule } from '../temporal/schedules.ts';
import { createTemporalIndexingQueue } from '../temporal/temporal-indexing-queue.ts';

export const projectRoot = fileURLToPath(new URL('../..', import.meta.url));

export type StackRole = 'all' | 'api' | 'worker';

export interface Stack {
  apiUrl: string | null;
  temporalAddress: string;
  temporalUiUrl: string | null;
  /** Shuts down in reverse order: API, worker (drains), connections, store, dev server. */
  stop(): Promise<void>;
}

/**
 * Brings up the parts of the product `role` asks for. With role `all` and no
 * `TEMPORAL_ADDRESS`, it also installs (once) and starts a Temporal dev server
 * whose history lives under the data directory.
 */
export async function startStack(config: Config, logger: Logger, role: StackRole): Promise<Stack> {
  const closers: { name: string; close: () => Promise<unknown> }[] = [];
  const stop = async () => {
    for (const { name, close } of closers.splice(0).reverse()) {
      try {
        await close();
      } catch (error) {
        logger.warn({ err: error, part: name }, 'shutdown step failed');
      }
    }
  };

  try {
    installTemporalRuntime(logger);
    let devServer: TemporalDevServer | undefined;
    if (role === 'all' && config.embeddedTemporal) {
      const log = (msg: string) => logger.info({ component: 'temporal-dev-server' }, msg);
      const cliPath = await ensureTemporalCli({ projectRoot, log });
      devServer = await startTemporalDevServer({
        cliPath,
        port: config.TEMPORAL_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        dbFile: path.join(config.dataDir, 'temporal', 'temporal.db'),
        namespace: config.TEMPORAL_NAMESPACE,
        logFile: path.join(config.dataDir, 'temporal', 'dev-server.log'),
        log,
      });
      closers.push({ name: 'temporal dev server', close: () => devServer!.stop() });
    }

    const engine = await createEngineAdapters(config, logger);
    closers.push({ name: 'engine adapters', close: () => engine.close() });
    const { store } = engine;

    const temporal = await createTemporalClient(config);
    closers.push({ name: 'temporal client', close: () => temporal.connection.close() });
    const indexingQueue = createTemporalIndexingQueue(temporal.client, config.TASK_QUEUE_INDEXING);

    const workers: RunningWorker[] = [];
    if (role !== 'api') {
      const connection = await createWorkerConnection(config);
      closers.push({ name: 'worker connection', close: () => connection.close() });
      const deps = { ...engine, indexingQueue };
      for (const taskQueue of [config.TASK_QUEUE_SYSTEM, config.TASK_QUEUE_INDEXING]) {
        const worker = await startWorker({
          connection,
          namespace: config.TEMPORAL_NAMESPACE,
          taskQueue,
          deps,
          logger,
        });
        workers.push(worker);
        closers.push({ name: `worker ${taskQueue}`, close: () => worker.stop() });
      }
      await ensureIndexReconcilerSchedule(temporal.client, {
        taskQueue: config.TASK_QUEUE_SYSTEM,
        everySeconds: config.INDEX_RECONCILE_INTERVAL_S,
        olderThanMs: config.INDEX_RECONCILE_AFTER_S * 1000,
      });
    }

    let apiUrl: string | null = null;
    if (role !== 'worker') {
      const probe = createTemporalProbe(config);
      closers.push({ name: 'temporal probe', close: () => probe.close() });
      const checks: ReadinessCheck[] = [
        { name: 'database', check: () => store.ping() },
        {
          name: 'temporal',
          check: () => pingTemporal(probe, config.READINESS_TIMEOUT_MS),
        },
      ];
      if (workers.length > 0) {
        checks.push({
          name: 'worker',
          check: async () => {
            const states = workers.map((w) => w.state());
            if (states.some((state) => state !== 'RUNNING')) {
              throw new Error(`workers are ${states.join(', ')}`);
            }
          },
        });
      }
      const v1 = createV1({
        engine: createEngine({ ...engine, indexingQueue }, engineSettings(config), {
          onIndexRequestError: (error, targets) =>
            logger.warn(
              { err: error, memories: targets.map((t) => t.memoryId) },
              'indexing request failed; the reconciler will retry it',
            ),
          onRememberError: (error) => logger.warn({ err: error }, 'auto-save failed'),
          onCacheError: (cache, tier, op, error) =>
            logger.debug({ err: error, cache, tier, op }, 'cache tier skipped'),
        }),
        store,
        limits: { maxMemoryChars: config.MAX_MEMORY_CHARS, maxTags: config.MAX_TAGS },
        adminApiKey: config.ADMIN_API_KEY,
        onUnexpectedError: (error, tool) => logger.error({ err: error, tool }, 'MCP tool failed'),
      });
      const app = createApp({
        logger,
        readinessChecks: checks,
        readinessTimeoutMs: config.READINESS_TIMEOUT_MS,
        bodyLimitKb: config.BODY_LIMIT_KB,
        memoryBudgetMb: config.MEMORY_BUDGET_MB,
        v1,
      });
      const server = await startServer(app, config.HOST, config.PORT);
      closers.push({ name: 'api server', close: () => server.stop() });
      // Runs first on shutdown: open MCP streams would otherwise hold the server's close.
      closers.push({ name: 'mcp sessions', close: () => v1.mcp.close() });
      apiUrl = server.url;
    }

    return {
      apiUrl,
      temporalAddress: config.temporalAddress,
      temporalUiUrl: devServer?.uiUrl ?? null,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
