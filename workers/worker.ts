// workers/: the worker processes. Bundles the workflow code once per process and
// runs one Temporal worker per task queue with the tuning that keeps it inside
// the 2 GB box. May import activities/ (to build them) and infra/; assembled by
// app/, which decides which queues a process serves.
import { Worker, type NativeConnection } from '@temporalio/worker';
import type { Logger } from 'pino';
import { createActivities, type ActivityDeps } from '../activities/index.ts';
import { buildWorkflowBundle } from './workflow-bundle.ts';

/** How much one worker may take on: what keeps it inside the 2 GB box. */
export interface WorkerTuning {
  /** Activities running at once on this worker. */
  maxConcurrentActivityTaskExecutions?: number;
  /** Activities this worker starts per second. */
  maxActivitiesPerSecond?: number;
  /** Activities started per second on the whole task queue, across workers (model quotas). */
  maxTaskQueueActivitiesPerSecond?: number;
  /** Workflow executions kept in memory between tasks (shared by the process's workers). */
  maxCachedWorkflows?: number;
}

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: ActivityDeps;
  logger: Logger;
  tuning?: WorkerTuning;
}

export interface RunningWorker {
  /** RUNNING, DRAINING, STOPPED, ... as the SDK reports it. */
  state(): string;
  /** Stops polling, lets in-flight tasks finish, then resolves. */
  stop(): Promise<void>;
}

let bundle: Promise<{ code: string }> | undefined;

/**
 * Bundles the workflow code once per process (in a child process, see
 * workflow-bundle.ts); every worker shares the bundle. A failed build is not
 * kept: the next worker tries again.
 */
function workflowBundle(logger: Logger) {
  bundle ??= buildWorkflowBundle(logger).catch((error: unknown) => {
    bundle = undefined;
    throw error;
  });
  return bundle;
}

/**
 * Starts a worker that polls `taskQueue` and runs the project's workflows and
 * activities. Resolves once it is polling.
 */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const worker = await Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    workflowBundle: await workflowBundle(options.logger),
    activities: createActivities(options.deps),
    ...definedOnly(options.tuning ?? {}),
  });
  let failure: unknown;
  const running = worker.run().catch((error: unknown) => {
    failure = error;
    options.logger.error(
      { err: error, taskQueue: options.taskQueue },
      'worker stopped with an error',
    );
  });
  // Worker.run() only resolves on shutdown; wait until the poller is live.
  while (worker.getState() === 'INITIALIZED') await new Promise((r) => setTimeout(r, 20));
  options.logger.info({ taskQueue: options.taskQueue, ...options.tuning }, 'worker polling');
  return {
    state: () => (failure ? 'FAILED' : worker.getState()),
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
    },
  };
}

// The SDK treats a key that is present but undefined differently from an absent one.
function definedOnly(tuning: WorkerTuning): WorkerTuning {
  return Object.fromEntries(Object.entries(tuning).filter(([, v]) => v !== undefined));
}
