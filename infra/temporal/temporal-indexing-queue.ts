import type { Client } from '@temporalio/client';
import { groupByUser, type IndexTarget } from '../../core/indexing/indexing-types.ts';
import { shardOfUser } from '../../core/indexing/shards.ts';
import type { IndexingQueue } from '../../core/ports/indexing-queue.ts';
import {
  indexShardWorkflow,
  indexShardWorkflowId,
  indexTargetsSignal,
  type PendingTarget,
} from '../../workflows/index.ts';
import { startTagged } from './search-attributes.ts';

export { indexShardWorkflowId } from '../../workflows/index.ts';

// Bounds the requests in flight when one request concerns many shards.
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

/** The indexing run that takes `userId`'s memories on `taskQueue`. */
export const indexRunOfUser = (userId: string, taskQueue: string) =>
  indexShardWorkflowId(shardOfUser(userId), taskQueue);

/**
 * Requests indexing through Temporal: one signal-with-start per shard in the
 * request, to the shard's run (`index-shard-<n>-<task queue>`; a user's
 * memories always go to the same shard), which starts it or adds the
 * memories to the running one. Saves of many users thus become a few batched
 * passes of a few runs, and no memory is ever indexed by two runs at once.
 * Runs carry the `MemoryKind` search attribute (`index`).
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
  const signalShard = (shard: number, memories: PendingTarget[]) =>
    startTagged(client, 'index', undefined, (tags) =>
      withinDeadline(() =>
        client.workflow.signalWithStart(indexShardWorkflow, {
          workflowId: indexShardWorkflowId(shard, taskQueue),
          taskQueue,
          args: [{ shard }],
          signal: indexTargetsSignal,
          signalArgs: [{ memories }],
          staticSummary: `index the memories of the users of shard ${shard}`,
          ...tags,
        }),
      ),
    );
  const requestShard = async (shard: number, memories: PendingTarget[]) => {
    for (let i = 0; i < memories.length; i += SIGNAL_MAX) {
      await signalShard(shard, memories.slice(i, i + SIGNAL_MAX));
    }
  };
  return {
    async request(targets, options = {}) {
      const force = options.force ?? false;
      const byShard = new Map<number, PendingTarget[]>();
      for (const [userId, ids] of groupByUser(
        targets,
        (t: IndexTarget) => t.userId,
        (t) => t.memoryId,
      )) {
        const shard = shardOfUser(userId);
        let memories = byShard.get(shard);
        if (!memories) byShard.set(shard, (memories = []));
        for (const memoryId of new Set(ids)) {
          memories.push(force ? { userId, memoryId, force } : { userId, memoryId });
        }
      }
      const shards = [...byShard];
      for (let i = 0; i < shards.length; i += CONCURRENCY) {
        await Promise.all(
          shards
            .slice(i, i + CONCURRENCY)
            .map(([shard, memories]) => requestShard(shard, memories)),
        );
      }
    },
  };
}
