import type { Client } from '@temporalio/client';
import { groupByUser, type IndexTarget } from '../../core/indexing/indexing-types.ts';
import type { IndexingQueue } from '../../core/ports/indexing-queue.ts';
import {
  indexMemoriesSignal,
  indexUserWorkflow,
  indexUserWorkflowId,
  type PendingMemory,
} from '../../workflows/index.ts';
import { startTagged } from './search-attributes.ts';

export { indexUserWorkflowId } from '../../workflows/index.ts';

// Bounds the requests in flight when one request concerns many users.
const CONCURRENCY = 16;
// Keeps each signal's payload small however many memories a request carries.
const SIGNAL_MAX = 500;
/** How long one request to Temporal may take before it counts as failed (see the options). */
export const DEFAULT_INDEX_REQUEST_TIMEOUT_MS = 2_000;

export interface TemporalIndexingQueueOptions {
  /**
   * Deadline of each signal-with-start sent to Temporal (default 2 s). A
   * save waits at most this long for Temporal: past it the request fails,
   * the memory stays `pending`, and the index reconciler asks again.
   */
  requestTimeoutMs?: number;
}

/**
 * Requests indexing through Temporal: one signal-with-start per user in the
 * request, to the user's run (`index-user-<user id>-<task queue>`), which starts it or
 * adds the memories to the running one. A burst of saves of one user thus
 * becomes a few batched passes of one run, and no memory is ever indexed by
 * two runs at once. Workflows carry the `MemoryUserId` and `MemoryKind`
 * search attributes.
 */
export function createTemporalIndexingQueue(
  client: Client,
  taskQueue: string,
  options: TemporalIndexingQueueOptions = {},
): IndexingQueue {
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_INDEX_REQUEST_TIMEOUT_MS;
  // Without a deadline the SDK retries an unreachable server for many seconds, holding the save.
  const withinDeadline = <T>(call: () => Promise<T>) =>
    client.connection.withDeadline(Date.now() + timeoutMs, call);
  const signalUser = (userId: string, memories: PendingMemory[]) =>
    startTagged(client, 'index', userId, (tags) =>
      withinDeadline(() =>
        client.workflow.signalWithStart(indexUserWorkflow, {
          workflowId: indexUserWorkflowId(userId, taskQueue),
          taskQueue,
          args: [{ userId }],
          signal: indexMemoriesSignal,
          signalArgs: [{ memories }],
          staticSummary: `index the memories of user ${userId}`,
          ...tags,
        }),
      ),
    );
  const requestUser = async (userId: string, memoryIds: string[], force: boolean) => {
    const memories = [...new Set(memoryIds)].map((memoryId) =>
      force ? { memoryId, force } : { memoryId },
    );
    for (let i = 0; i < memories.length; i += SIGNAL_MAX) {
      await signalUser(userId, memories.slice(i, i + SIGNAL_MAX));
    }
  };
  return {
    async request(targets, options = {}) {
      const force = options.force ?? false;
      const users = [
        ...groupByUser(
          targets,
          (t: IndexTarget) => t.userId,
          (t) => t.memoryId,
        ),
      ];
      for (let i = 0; i < users.length; i += CONCURRENCY) {
        await Promise.all(
          users.slice(i, i + CONCURRENCY).map(([userId, ids]) => requestUser(userId, ids, force)),
        );
      }
    },
  };
}
