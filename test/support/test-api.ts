import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { createApp, type AppDeps } from '../../api/app.ts';
import { startServer } from '../../api/server.ts';
import { createV1, type V1Deps } from '../../api/v1.ts';
import { createEngine, type Engine, type EngineHooks } from '../../core/engine.ts';
import { engineSettings } from '../../app/engine-settings.ts';
import { createLogger } from '../../infra/logger.ts';
import { installTemporalRuntime } from '../../infra/temporal/runtime-logger.ts';
import { createTemporalImportRuns } from '../../infra/temporal/temporal-import-runs.ts';
import { createTemporalIndexingQueue } from '../../infra/temporal/temporal-indexing-queue.ts';
import { createTemporalLoadTests } from '../../infra/temporal/temporal-load-tests.ts';
import { createTemporalNarrativeQueue } from '../../infra/temporal/temporal-narrative-queue.ts';
import { startWorker, type RunningWorker } from '../../workers/worker.ts';
import type { VectorSpaces } from '../../core/ports/vector-space.ts';
import type { TestEngine } from './test-engine.ts';
import { shortIndexRunIdle } from './index-run-idle.ts';
import { requireTestEnv } from './test-env.ts';

export const ADMIN_KEY = 'test-admin-key-0123456789';

export interface TestApi {
  url: string;
  /** The engine the API serves (its caches, say). */
  engine: Engine;
  client: Client;
  taskQueue: string;
  /** Starts the indexing worker (again, after `stopWorker`). */
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The real API on port 0 over the given engine, with its indexing worker on
 * the run's Temporal dev server and a task queue of its own.
 */
export async function startTestApi(
  engine: TestEngine,
  options: {
    worker?: boolean;
    taskQueue?: string;
    deps?: Partial<Omit<TestEngine, 'spaces'>> & { spaces?: VectorSpaces };
    /** Engine hooks, such as `admitHeavy` from a memory monitor. */
    hooks?: EngineHooks;
    /** The app's monitor and metrics, built over the engine once it exists. */
    observe?: (engine: Engine) => Pick<AppDeps, 'monitor' | 'metrics'>;
    /**
     * Requests narratives through a real scheduler on a task queue of its own,
     * with a worker for it (memory reading: 10 % of the budget).
     */
    narratives?: boolean;
    /** Serves `/v1/admin/loadtests`, starting runs on this task queue (against this API by default). */
    loadTestsQueue?: string;
    /** The rate limits of `/v1` and `/mcp` (default: the product's, 20/s and a burst of 60 per user). */
    rateLimit?: V1Deps['rateLimit'];
    /** Requests of one user run at once (default: the product's 2). */
    userConcurrency?: number;
    /** How imports read and commit (`POST /v1/import`; default: the product's). */
    importSettings?: NonNullable<V1Deps['portability']>['settings'];
  } = {},
): Promise<TestApi> {
  const logger = createLogger('silent');
  installTemporalRuntime(logger);
  const address = requireTestEnv('TEST_TEMPORAL_ADDRESS');
  const taskQueue = options.taskQueue ?? `test-indexing-${randomUUID()}`;
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, interceptors: { workflow: [shortIndexRunIdle()] } });
  const indexingQueue = createTemporalIndexingQueue(client, taskQueue);
  const narrativeTaskQueue = `test-narratives-${randomUUID()}`;
  const narrativeQueue = options.narratives
    ? createTemporalNarrativeQueue(client, narrativeTaskQueue, {
        coalesceMs: 0,
        repeatWindowMs: 0,
        scheduler: { memoryPollMs: 200 },
      })
    : undefined;
  const narrativeDeps = narrativeQueue
    ? { narrativeQueue, memoryUsage: () => ({ usedMb: 200, budgetMb: 2048 }) }
    : {};
  let narrativeWorker: RunningWorker | undefined;
  const workerConnection = await NativeConnection.connect({ address });
  let worker: RunningWorker | undefined;

  const built = createEngine(
    { ...engine, ...options.deps, indexingQueue, ...narrativeDeps },
    engineSettings(engine.config),
    options.hooks,
  );
  const v1 = createV1({
    engine: built,
    store: engine.store,
    limits: { maxMemoryChars: 5000, maxTags: 10 },
    adminApiKey: ADMIN_KEY,
    portability: {
      store: engine.portability,
      runs: createTemporalImportRuns(client, taskQueue),
      ...(options.importSettings ? { settings: options.importSettings } : {}),
    },
    ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}),
    ...(options.userConcurrency ? { userConcurrency: options.userConcurrency } : {}),
    ...(options.loadTestsQueue
      ? {
          loadTests: {
            service: createTemporalLoadTests(client, options.loadTestsQueue),
            selfUrl: () => selfUrl,
          },
        }
      : {}),
  });
  let selfUrl: string | null = null;
  const app = createApp({
    logger,
    readinessChecks: [],
    readinessTimeoutMs: 1000,
    bodyLimitKb: 1024,
    memoryBudgetMb: 2048,
    v1,
    ...options.observe?.(built),
  });
  const server = await startServer(app, '127.0.0.1', 0);
  selfUrl = server.url;

  const api: TestApi = {
    url: server.url,
    engine: built,
    client,
    taskQueue,
    async startWorker() {
      worker ??= await startWorker({
        connection: workerConnection,
        namespace: 'default',
        taskQueue,
        deps: { ...engine, ...options.deps, indexingQueue, ...narrativeDeps },
        logger,
      });
    },
    async stopWorker() {
      await worker?.stop();
      worker = undefined;
    },
    async stop() {
      await v1.mcp.close();
      await server.stop();
      built.close();
      await narrativeQueue?.close();
      await narrativeWorker?.stop();
      await api.stopWorker();
      await workerConnection.close();
      await connection.close();
    },
  };
  if (options.worker !== false) await api.startWorker();
  if (narrativeQueue) {
    narrativeWorker = await startWorker({
      connection: workerConnection,
      namespace: 'default',
      taskQueue: narrativeTaskQueue,
      deps: { ...engine, ...options.deps, indexingQueue, ...narrativeDeps },
      logger,
    });
  }
  return api;
}

/** A JSON request to the API; returns status and parsed body. */
export async function call(
  url: string,
  method: string,
  path: string,
  options: { key?: string; body?: unknown; raw?: string } = {},
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
      ...(options.body !== undefined || options.raw !== undefined
        ? { 'content-type': 'application/json' }
        : {}),
    },
    ...(options.raw !== undefined
      ? { body: options.raw }
      : options.body !== undefined
        ? { body: JSON.stringify(options.body) }
        : {}),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** A new user made through the admin API: its id, API key and the key's id. */
export async function createUser(
  url: string,
): Promise<{ user_id: string; api_key: string; key_id: string }> {
  return (await call(url, 'POST', '/v1/admin/users', { key: ADMIN_KEY, body: {} })).body;
}

/** Saves a memory through the API and waits until it is indexed; returns its id. */
export async function saveIndexed(url: string, key: string, content: string): Promise<string> {
  const saved = await call(url, 'POST', '/v1/memories', { key, body: { content } });
  await eventually(`memory indexed: ${content}`, async () => {
    const res = await call(url, 'GET', `/v1/memories/${saved.body.id}`, { key });
    return res.body.index_state === 'indexed';
  });
  return saved.body.id as string;
}

/**
 * Polls until `check` returns true. The deadline is a liveness guard (a stuck
 * pipeline must fail the test, not hang it), generous enough for a slow machine.
 */
export async function eventually(
  what: string,
  check: () => Promise<boolean>,
  deadlineMs = 120_000,
): Promise<void> {
  const until = Date.now() + deadlineMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`gave up waiting: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
