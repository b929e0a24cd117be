import path from 'node:path';
import type { Logger } from 'pino';
import { createApp } from '../api/app.ts';
import type { ReadinessCheck } from '../api/health.routes.ts';
import { startServer } from '../api/server.ts';
import { startWorker, type RunningWorker, type WorkerTuning } from '../workers/worker.ts';
import { createNarrator } from '../core/narrative/narrator.ts';
import { DEFAULT_MINILM_DIR, type Config } from '../infra/config.ts';
import { projectRoot } from '../infra/project-root.ts';
import { ensureMiniLmModel } from '../infra/local/minilm/install.ts';
import { createV1 } from '../api/v1.ts';
import { createEngine } from '../core/engine.ts';
import { createEngineAdapters } from './engine-adapters.ts';
import { engineSettings } from './engine-settings.ts';
import { ensureTemporalCli } from '../infra/temporal/temporal-cli.ts';
import { freePort } from '../infra/process/service-tools.ts';
import { createMetrics } from '../infra/metrics/metrics.ts';
import { createMemoryMonitor, type ReliefCache } from '../infra/monitoring/memory-monitor.ts';
import {
  startTemporalDevServer,
  type TemporalDevServer,
} from '../infra/temporal/temporal-dev-server.ts';
import {
  createTemporalClient,
  createTemporalProbe,
  createWorkerConnection,
  pingTemporal,
} from '../infra/temporal/connection.ts';
import { installTemporalRuntime } from '../infra/temporal/runtime-logger.ts';
import { ensureIndexReconcilerSchedule, startReembedding } from '../infra/temporal/schedules.ts';
import { createTemporalIndexingQueue } from '../infra/temporal/temporal-indexing-queue.ts';
import { createTemporalLoadTests } from '../infra/temporal/temporal-load-tests.ts';
import { ensureConsolidationSchedule } from '../infra/temporal/consolidation-schedule.ts';
import { ensureNarrativeFeederSchedule } from '../infra/temporal/narrative-schedules.ts';
import { createTemporalNarrativeQueue } from '../infra/temporal/temporal-narrative-queue.ts';

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
    // Worker processes have Temporal Core serve its metrics; /metrics appends them (an
    // explicit TEMPORAL_METRICS_PORT binds on HOST, so a worker-only process can be scraped).
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
    const metrics = config.METRICS_ENABLED
      ? createMetrics(temporalMetricsUrl ? { temporalMetricsUrl } : {})
      : undefined;
    // Filled once the API's engine exists: the caches the monitor clears under pressure.
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
    closers.push({
      name: 'memory monitor',
      close: async () => {
        monitor.stop();
        await monitor.flushWebhooks();
      },
    });
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

    if (config.embedderKind === 'local' && config.MINILM_MODEL_DIR === DEFAULT_MINILM_DIR) {
      // Installs the local sentence model on first start (a few minutes, once).
      await ensureMiniLmModel({
        projectRoot,
        log: (msg) => logger.info({ component: 'minilm' }, msg),
      });
    }
    const adapters = await createEngineAdapters(config, logger);
    closers.push({ name: 'engine adapters', close: () => adapters.close() });
    // Every model call (planning, extraction, narratives) is counted and timed.
    const engine =
      metrics && adapters.model
        ? { ...adapters, model: metrics.instrumentModel(adapters.model) }
        : adapters;
    const { store } = engine;

    const temporal = await createTemporalClient(config);
    closers.push({ name: 'temporal client', close: () => temporal.connection.close() });
    const indexingQueue = createTemporalIndexingQueue(temporal.client, config.TASK_QUEUE_INDEXING);
    const narrativeQueue = createTemporalNarrativeQueue(
      temporal.client,
      config.TASK_QUEUE_NARRATIVES,
      {
        scheduler: {
          maxInFlight: config.NARRATIVE_MAX_IN_FLIGHT,
          memoryPollMs: config.NARRATIVE_MEMORY_POLL_S * 1000,
          pauseAbove: config.NARRATIVE_PAUSE_AT_PCT / 100,
          resumeBelow: config.NARRATIVE_RESUME_AT_PCT / 100,
          maxQueued: config.NARRATIVE_MAX_QUEUED,
        },
        coalesceMs: config.NARRATIVE_COALESCE_MS,
        onError: (error, requests) =>
          logger.warn(
            { err: error, users: requests.length },
            'narrative request failed; the feeder will ask again',
          ),
      },
    );
    // Closed before the Temporal client (closers run in reverse), so coalesced requests go out.
    closers.push({ name: 'narrative queue', close: () => narrativeQueue.close() });
    // Scrapes and every open dashboard ask for the depth: one workflow query per 5 s serves them.
    let depth: { at: number; value: Promise<number | null> } | undefined;
    metrics?.addSources({
      narrativeQueueDepth: () => {
        if (!depth || Date.now() - depth.at > 5_000) {
          depth = {
            at: Date.now(),
            value: narrativeQueue.status().then(
              (status) => status?.queueLength ?? null,
              () => null,
            ),
          };
        }
        return depth.value;
      },
    });

    const workers: RunningWorker[] = [];
    if (role !== 'api') {
      const connection = await createWorkerConnection(config);
      closers.push({ name: 'worker connection', close: () => connection.close() });
      const deps = {
        ...engine,
        indexingQueue,
        narrativeQueue,
        narrator: createNarrator({ model: engine.model, timeoutMs: config.GEMINI_TIMEOUT_MS }),
        // The narrative scheduler pauses on the process's resident memory against its budget.
        memoryUsage: () => ({
          usedMb: monitor.latest().rss / 2 ** 20,
          budgetMb: config.MEMORY_BUDGET_MB,
        }),
        // Load-test runs started from the Temporal UI run here (the CLI runs its own worker).
        loadTest: {
          adminApiKey: config.ADMIN_API_KEY,
          reportsDir: path.join(config.dataDir, 'loadtests'),
          assumptions: {
            memoryBudgetMb: config.MEMORY_BUDGET_MB,
            dbConnections: config.PG_POOL_SIZE,
            modelQuotaPerMin: config.LOADTEST_MODEL_QUOTA_PER_MIN,
            vectorDimension: engine.spaces.target().embedder.dimension,
          },
        },
      };
      const shared = {
        maxActivitiesPerSecond: config.WORKER_MAX_ACTIVITIES_PER_S,
        maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
      };
      const queues: [string, WorkerTuning][] = [
        [config.TASK_QUEUE_LOADTESTS, { maxConcurrentActivityTaskExecutions: 4 }],
        [
          config.TASK_QUEUE_CONSOLIDATION,
          { maxConcurrentActivityTaskExecutions: config.CONSOLIDATION_CONCURRENCY },
        ],
        [
          config.TASK_QUEUE_SYSTEM,
          { maxConcurrentActivityTaskExecutions: config.WORKER_SYSTEM_CONCURRENCY },
        ],
        [
          config.TASK_QUEUE_INDEXING,
          { maxConcurrentActivityTaskExecutions: config.WORKER_INDEXING_CONCURRENCY },
        ],
        [
          config.TASK_QUEUE_NARRATIVES,
          {
            maxConcurrentActivityTaskExecutions: config.WORKER_NARRATIVE_CONCURRENCY,
            // Narratives call the model: the whole queue stays under its quota.
            maxTaskQueueActivitiesPerSecond: config.MODEL_QUEUE_ACTIVITIES_PER_S,
          },
        ],
      ];
      for (const [taskQueue, tuning] of queues) {
        const worker = await startWorker({
          connection,
          namespace: config.TEMPORAL_NAMESPACE,
          taskQueue,
          deps,
          logger,
          tuning: { ...shared, ...tuning },
        });
        workers.push(worker);
        closers.push({ name: `worker ${taskQueue}`, close: () => worker.stop() });
      }
      if (engine.spaces.targetState() === 'building') {
        await startReembedding(temporal.client, {
          spaceId: engine.spaces.target().id,
          taskQueue: config.TASK_QUEUE_SYSTEM,
        });
        logger.info(
          { space: engine.spaces.target().id, serving: engine.spaces.serving()?.id ?? 'none' },
          'the embedder changed: re-embedding every memory into its space (searches read the old space until it is done)',
        );
      }
      await ensureConsolidationSchedule(temporal.client, {
        taskQueue: config.TASK_QUEUE_CONSOLIDATION,
        timezone: config.CONSOLIDATION_TIMEZONE,
        hour: config.CONSOLIDATION_HOUR,
        minute: config.CONSOLIDATION_MINUTE,
        catchupWindow: `${config.CONSOLIDATION_CATCHUP_HOURS} hours`,
        threshold: config.CONSOLIDATION_SIMILARITY,
        concurrency: config.CONSOLIDATION_CONCURRENCY,
      });
      await ensureNarrativeFeederSchedule(temporal.client, {
        taskQueue: config.TASK_QUEUE_NARRATIVES,
        everySeconds: config.NARRATIVE_FEED_INTERVAL_S,
        activeWithinHours: config.NARRATIVE_ACTIVE_WINDOW_H,
      });
      await ensureIndexReconcilerSchedule(temporal.client, {
        taskQueue: config.TASK_QUEUE_SYSTEM,
        everySeconds: config.INDEX_RECONCILE_INTERVAL_S,
        olderThanMs: config.INDEX_RECONCILE_AFTER_S * 1000,
      });
    }

    let apiUrl: string | null = null;
    let selfUrl: string | null = null;
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
      const apiEngine = createEngine(
        { ...engine, indexingQueue, narrativeQueue },
        engineSettings(config),
        {
          onNarrativeRequestError: (error) =>
            logger.warn({ err: error }, 'narrative request failed; the feeder will ask again'),
          admitHeavy: () => monitor.admitHeavy(),
          onIndexRequestError: (error, targets) =>
            logger.warn(
              { err: error, memories: targets.map((t) => t.memoryId) },
              'indexing request failed; the reconciler will retry it',
            ),
          onRememberError: (error) => logger.warn({ err: error }, 'auto-save failed'),
          onCacheError: (cache, tier, op, error) =>
            logger.debug({ err: error, cache, tier, op }, 'cache tier skipped'),
        },
      );
      // Least valuable first: search results before plans, which each cost a model call.
      reliefCaches = [apiEngine.caches.embedding, apiEngine.caches.search, apiEngine.caches.plan];
      metrics?.addSources({
        caches: [apiEngine.caches.plan, apiEngine.caches.search, apiEngine.caches.embedding],
        memory: monitor,
      });
      const v1 = createV1({
        engine: apiEngine,
        store,
        limits: { maxMemoryChars: config.MAX_MEMORY_CHARS, maxTags: config.MAX_TAGS },
        adminApiKey: config.ADMIN_API_KEY,
        onUnexpectedError: (error, tool) => logger.error({ err: error, tool }, 'MCP tool failed'),
        loadTests: {
          service: createTemporalLoadTests(temporal.client, config.TASK_QUEUE_LOADTESTS),
          // Known once the server listens (PORT may be 0).
          selfUrl: () => selfUrl,
        },
      });
      const app = createApp({
        logger,
        readinessChecks: checks,
        readinessTimeoutMs: config.READINESS_TIMEOUT_MS,
        bodyLimitKb: config.BODY_LIMIT_KB,
        memoryBudgetMb: config.MEMORY_BUDGET_MB,
        v1,
        monitor,
        ...(metrics ? { metrics } : {}),
      });
      const server = await startServer(app, config.HOST, config.PORT);
      selfUrl = `http://127.0.0.1:${new URL(server.url).port}`;
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
