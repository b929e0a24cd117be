import type { ChildProcess } from 'node:child_process';
import { spawnScriptUntilReady } from './child-process.ts';
import { requireTestEnv } from './test-env.ts';

const QUEUES = ['INDEXING', 'SYSTEM', 'NARRATIVES', 'CONSOLIDATION', 'LOADTESTS'] as const;

/**
 * The environment of a worker process on the run's PostgreSQL and Temporal
 * dev server: indexing on `taskQueue`, every other queue on one named after
 * it (so it never takes another test's work), its data under `dataDir`, and
 * `extra` on top (an embedder, say).
 */
export function workerProcessEnv(
  taskQueue: string,
  dataDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    DATABASE_URL: requireTestEnv('TEST_PGVECTOR_URL'),
    TEMPORAL_ADDRESS: requireTestEnv('TEST_TEMPORAL_ADDRESS'),
    ...Object.fromEntries(
      QUEUES.map((q) => [
        `TASK_QUEUE_${q}`,
        q === 'INDEXING' ? taskQueue : `${taskQueue}-${q.toLowerCase()}`,
      ]),
    ),
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    EMBED_BATCH_WINDOW_MS: '5',
    ...extra,
  };
}

/**
 * `scripts/start-worker.ts` in a process of its own, once it says it is up:
 * a test can kill it (SIGKILL ends the worker itself, not a wrapper).
 */
export async function startWorkerProcess(env: Record<string, string>): Promise<ChildProcess> {
  const { child } = await spawnScriptUntilReady(
    'worker',
    'scripts/start-worker.ts',
    env,
    /memory-engine is up \(worker\)/,
  );
  return child;
}
