import type { Logger } from 'pino';
import type { ActivityDeps } from '../activities/index.ts';
import { withPriority } from '../core/concurrency/work-priority.ts';
import { createNarrator } from '../core/narrative/narrator.ts';
import type { Config } from '../infra/config.ts';
import type { MemoryMonitor } from '../infra/monitoring/memory-monitor.ts';
import { createWorkerConnection } from '../infra/temporal/connection.ts';
import { loadTestDeps } from '../workers/loadtest-deps.ts';
import { startWorker, type RunningWorker, type WorkerTuning } from '../workers/worker.ts';
import type { EngineAdapters } from './engine-adapters.ts';
import type { Shutdown } from './shutdown.ts';
import type { TemporalServices } from './temporal-services.ts';

/**
 * Starts one worker per task queue on a shared native connection; each is
 * drained on shutdown before the connection closes.
 */
export async function startWorkers(
  config: Config,
  logger: Logger,
  shutdown: Shutdown,
  parts: { engine: EngineAdapters; temporal: TemporalServices; monitor: MemoryMonitor },
): Promise<RunningWorker[]> {
  const connection = await createWorkerConnection(config);
  shutdown.add('worker connection', () => connection.close());
  const deps = workerDeps(config, parts.engine, parts.temporal, parts.monitor);
  const shared = {
    maxActivitiesPerSecond: config.WORKER_MAX_ACTIVITIES_PER_S,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
  };
  const workers: RunningWorker[] = [];
  for (const [taskQueue, tuning] of queueTunings(config)) {
    // Every activity runs at background priority (the poll loop started here carries it to
    // them): beside the API, the local model serves queries first (threaded-embedder.ts).
    const worker = await withPriority('background', () =>
      startWorker({
        connection,
        namespace: config.TEMPORAL_NAMESPACE,
        taskQueue,
        deps,
        logger,
        tuning: { ...shared, ...tuning },
      }),
    );
    workers.push(worker);
    shutdown.add(`worker ${taskQueue}`, () => worker.stop());
  }
  return workers;
}

/** The ports and services the activities of this process run over. */
function workerDeps(
  config: Config,
  engine: EngineAdapters,
  temporal: TemporalServices,
  monitor: MemoryMonitor,
): ActivityDeps {
  return {
    ...engine,
    indexingQueue: temporal.indexingQueue,
    narrativeQueue: temporal.narrativeQueue,
    narrator: createNarrator({ model: engine.model, timeoutMs: config.GEMINI_TIMEOUT_MS }),
    // The narrative scheduler pauses on the process's resident memory against its budget.
    memoryUsage: () => ({
      usedMb: monitor.latest().rss / 2 ** 20,
      budgetMb: config.MEMORY_BUDGET_MB,
    }),
    // Load-test runs started from the Temporal UI run here (the CLI runs its own worker).
    loadTest: loadTestDeps(config, engine.spaces.target().embedder.dimension),
    dropRetiredSpaces: (graceMs) => engine.spaces.dropRetired(graceMs),
  };
}

/** Each task queue this process serves, with how much its worker may take on at once. */
function queueTunings(config: Config): [string, WorkerTuning][] {
  return [
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
}
