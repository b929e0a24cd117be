import { NativeConnection } from '@temporalio/worker';
import type { ActivityDeps } from '../../activities/index.ts';
import type { EngineAdapters } from '../../app/engine-adapters.ts';
import { createLogger } from '../../infra/logger.ts';
import { startWorker, type RunningWorker } from '../../workers/worker.ts';
import { closeOnFailure } from './close-on-failure.ts';
import { requireTestEnv } from './test-env.ts';

/**
 * A worker polling `taskQueue` on the run's Temporal dev server, on a
 * connection of its own, over the engine's adapters; indexing requests go
 * nowhere unless `deps` says otherwise; it logs nothing. `stop()` also closes
 * its connection.
 */
export async function startTestWorker(
  engine: EngineAdapters,
  taskQueue: string,
  deps: Partial<ActivityDeps> = {},
): Promise<RunningWorker> {
  const connection = await NativeConnection.connect({
    address: requireTestEnv('TEST_TEMPORAL_ADDRESS'),
  });
  const worker = await closeOnFailure(
    () => connection.close(),
    () =>
      startWorker({
        connection,
        namespace: 'default',
        taskQueue,
        deps: { ...engine, indexingQueue: { request: async () => {} }, ...deps },
        logger: createLogger('silent'),
      }),
  );
  return {
    state: () => worker.state(),
    async stop() {
      await worker.stop();
      await connection.close();
    },
  };
}
