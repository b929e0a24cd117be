import type { Logger } from 'pino';
import { createApp } from '../api/app.ts';
import { NotReady, type ReadinessCheck } from '../api/health.routes.ts';
import { startServer } from '../api/server.ts';
import { createV1 } from '../api/v1.ts';
import { createEngine } from '../core/engine.ts';
import type { Config } from '../infra/config.ts';
import type { Metrics } from '../infra/metrics/metrics.ts';
import type { Supervisor } from '../infra/process/supervisor.ts';
import { createTemporalProbe, pingTemporal } from '../infra/temporal/connection.ts';
import { createTemporalImportRuns } from '../infra/temporal/temporal-import-runs.ts';
import { createTemporalLoadTests } from '../infra/temporal/temporal-load-tests.ts';
import type { RunningWorker } from '../workers/worker.ts';
import type { EngineAdapters } from './engine-adapters.ts';
import { engineSettings } from './engine-settings.ts';
import type { RunningMonitor } from './observability.ts';
import { withProcessHeader } from './process-header.ts';
import { openSharedLimits, type SharedLimits } from './shared-limits.ts';
import type { Shutdown } from './shutdown.ts';
import type { TemporalServices } from './temporal-services.ts';

/** What the API runs over; `workers` are this process's own (empty in an API-only process). */
export interface ApiParts {
  engine: EngineAdapters;
  temporal: TemporalServices;
  observed: RunningMonitor;
  metrics: Metrics | undefined;
  workers: RunningWorker[];
  /** Services this process started and restarts (the embedded Temporal dev server). */
  services?: readonly Supervisor[];
}

/** Builds the query engine, the v1 edges (REST and MCP) and the app, and listens; resolves to its URL. */
export async function startApi(
  config: Config,
  logger: Logger,
  shutdown: Shutdown,
  parts: ApiParts,
): Promise<string> {
  const { engine, temporal, observed, metrics } = parts;
  const checks = readinessChecks(config, shutdown, parts);
  // Closed after the API server (shutdown runs last-added first; the server is added later).
  const shared = await openSharedLimits(config, logger, shutdown);
  const apiEngine = createApiEngine(config, logger, parts, shared);
  // After the server (added later, so closed first): no request can queue a plan once it runs.
  shutdown.add('engine background planning', async () => apiEngine.close());
  // Least valuable first: search results before plans, which each cost a model call.
  observed.setReliefCaches([
    apiEngine.caches.embedding,
    apiEngine.caches.search,
    apiEngine.caches.plan,
  ]);
  metrics?.addSources({
    caches: [apiEngine.caches.plan, apiEngine.caches.search, apiEngine.caches.embedding],
    memory: observed.monitor,
    planBackfill: apiEngine.planBackfill,
  });
  const limits = rateLimits(config, shared);
  let selfUrl: string | null = null;
  const v1 = createV1({
    rateLimit: limits,
    userConcurrency: config.USER_CONCURRENCY,
    mcp: {
      maxSessions: config.MCP_MAX_SESSIONS,
      maxSessionsPerUser: config.MCP_MAX_SESSIONS_PER_USER,
      allowedOrigins: config.MCP_ALLOWED_ORIGINS,
      allowedHosts: config.MCP_ALLOWED_HOSTS,
      serverHost: config.HOST,
    },
    engine: apiEngine,
    store: engine.store,
    limits: { maxMemoryChars: config.MAX_MEMORY_CHARS, maxTags: config.MAX_TAGS },
    adminApiKey: config.ADMIN_API_KEY,
    onUnexpectedError: (error, tool) => logger.error({ err: error, tool }, 'MCP tool failed'),
    portability: {
      store: engine.portability,
      runs: createTemporalImportRuns(temporal.client, config.TASK_QUEUE_INDEXING),
      onExportError: (error, requestId) =>
        logger.warn({ err: error, request_id: requestId }, 'export failed after it began'),
      onImportRunError: (error, importId) =>
        logger.warn(
          { err: error, import_id: importId },
          'import indexing run not started; its memories wait for the reconciler',
        ),
    },
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
    monitor: observed.monitor,
    ...(metrics ? { metrics } : {}),
    opsToken: config.OPS_TOKEN,
  });
  const server = await startServer(withProcessHeader(app, config), config.HOST, config.PORT);
  selfUrl = `http://127.0.0.1:${new URL(server.url).port}`;
  shutdown.add('api server', () => server.stop());
  // Runs first on shutdown: open MCP streams would otherwise hold the server's close.
  shutdown.add('mcp sessions', () => v1.mcp.close());
  return server.url;
}

/**
 * `/readyz`: the database, Temporal (on a probe connection of its own), each
 * service this process supervises (named, `restarting` while it is down) and
 * this process's workers.
 */
function readinessChecks(config: Config, shutdown: Shutdown, parts: ApiParts): ReadinessCheck[] {
  const probe = createTemporalProbe(config);
  shutdown.add('temporal probe', () => probe.close());
  const checks: ReadinessCheck[] = [
    { name: 'database', check: () => parts.engine.store.ping() },
    {
      name: 'temporal',
      check: () => pingTemporal(probe, config.READINESS_TIMEOUT_MS),
    },
    ...(parts.services ?? []).map(supervisedCheck),
  ];
  const { workers } = parts;
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
  return checks;
}

function supervisedCheck(supervisor: Supervisor): ReadinessCheck {
  return {
    name: supervisor.status().name,
    check: async () => {
      const { name, state, restarts, lastExit } = supervisor.status();
      if (state === 'running') return;
      const why = lastExit ? ` (last exit: ${lastExit}; restarts so far: ${restarts})` : '';
      throw new NotReady(state, `${name} is ${state}${why}`);
    },
  };
}

/** The engine that answers queries, over the ports and the Temporal queues. */
function createApiEngine(config: Config, logger: Logger, parts: ApiParts, shared: SharedLimits) {
  const { saveIndexingQueue: indexingQueue, narrativeQueue } = parts.temporal;
  const settings = engineSettings(config, { planningBucket: shared.planning });
  return createEngine({ ...parts.engine, indexingQueue, narrativeQueue }, settings, {
    onNarrativeRequestError: (error) =>
      logger.warn({ err: error }, 'narrative request failed; the feeder will ask again'),
    admitHeavy: () => parts.observed.monitor.admitHeavy(),
    // One line per failed request, without a stack: during an outage there is one per save.
    onIndexRequestError: (error, targets) =>
      logger.warn(
        {
          error: error instanceof Error ? error.message : String(error),
          memories: targets.map((t) => t.memoryId),
        },
        'indexing request failed; the reconciler will retry it',
      ),
    onRememberError: (error) => logger.warn({ err: error }, 'auto-save failed'),
    onCacheError: (cache, tier, op, error) =>
      logger.debug({ err: error, cache, tier, op }, 'cache tier skipped'),
    onStrategyError: (strategy, reason, error) =>
      logger.warn({ err: error, strategy, reason }, 'context strategy failed'),
    onSearchRetrieverError: (retriever, error) =>
      logger.warn({ err: error, retriever }, 'search retriever failed'),
  });
}

/** Per-user and admin rate limits for `/v1` and `/mcp`; users' over `shared` when it has them. */
function rateLimits(config: Config, shared: SharedLimits) {
  return {
    enabled: config.RATE_LIMIT_ENABLED,
    user: { perSecond: config.RATE_LIMIT_PER_S, burst: config.RATE_LIMIT_BURST },
    admin: { perSecond: config.RATE_LIMIT_ADMIN_PER_S, burst: config.RATE_LIMIT_ADMIN_BURST },
    ...(shared.users ? { limiter: shared.users } : {}),
  };
}
