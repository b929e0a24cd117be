import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineSignal,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import { indexingActivityOptions } from './index-memory.workflow.ts';
import { INDEX_BATCH_MAX, type IndexPassCounts, type PendingTarget } from './index-pass.ts';
import { FairPending } from './index-shard.state.ts';

export type { PendingTarget } from './index-pass.ts';

export interface IndexShardInput {
  /** Which shard of users this run indexes (see `shardOfUser`). */
  shard: number;
  /** Memories still to index, carried over a continue-as-new. */
  pending?: PendingTarget[];
  /** How long the run waits for more requests once it has nothing to do (default 5 s). */
  idleMs?: number;
  /** Batches after which the run continues as new (default 100). */
  batchesPerRun?: number;
  /**
   * A batch that is not full starts at most this long after the previous
   * one started (default 1 s), so a steady trickle of saves is indexed in
   * batches of many memories, not one batch per save. A full batch, and the
   * first after an idle period, start at once.
   */
  gatherMs?: number;
}

/** What this run (since its start or last continue-as-new) did. */
export interface IndexShardResult extends IndexPassCounts {
  batches: number;
}

export interface IndexTargetsRequest {
  memories: PendingTarget[];
}

/** Asks a shard's run to index (or take another pass over) these memories of its users. */
export const indexTargetsSignal = defineSignal<[IndexTargetsRequest]>('indexTargets');

/**
 * The workflow id of one indexing shard on `taskQueue`. A user's memories
 * always go to the same shard, so one memory is never indexed by two runs at
 * once; the queue is part of the id (as in the scheduler's and the
 * reconciler's ids) so a request never lands in a run left on a queue
 * nobody polls any more.
 */
export const indexShardWorkflowId = (shard: number, taskQueue: string) =>
  `index-shard-${shard}-${taskQueue}`;

// One activity per batch (vectors, graphs, marks, deletes): a batch costs the run one
// activity and a workflow task, not four of each. It embeds and extracts up to 256 memories
// (extraction may wait on the model: up to 256 model calls, a few at a time), so it gets
// a quarter of an hour; heartbeats (30 s) notice a dead worker long before.
const { indexBatch } = proxyActivities<Activities>({
  ...indexingActivityOptions,
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '30 seconds',
});

/**
 * Memories per batch of a shard run. Each batch pays a fixed price whatever its
 * size (an activity, a workflow task, a dozen statements, a vector write and a graph
 * transaction), and the embedder pads the texts of one model run to the longest, which
 * a large batch handed over shortest first keeps small. On one core 256 index 20-40 %
 * more memories per second than 32 (`bench:quality`). Its texts are embedded in calls of
 * `EMBED_BATCH_MAX` on the background lane, never the queries'.
 */
export const SHARD_BATCH_MAX = 256;

const BATCHES_PER_RUN = 100;
const DEFAULT_IDLE_MS = 5_000;
const DEFAULT_GATHER_MS = 1_000;

/**
 * Indexes the memories of the users of one shard (workflow id
 * `index-shard-<n>-<task queue>`). Saves, updates, deletes and the
 * reconciler signal-with-start it with (user, memory) pairs; it indexes what
 * is pending in batches of at most 256 taken round-robin across users, one
 * activity per batch (so a stream of single saves from many users costs one
 * activity per batch, not a run per user, and one user's flood takes one
 * share of each batch; a batch that is not full waits until `gatherMs` after
 * the previous one, so a steady stream makes few large batches), takes another pass over a memory that changed
 * meanwhile; the activity forgets deleted ones and marks content an index
 * refuses as failed. It
 * ends after a few idle seconds; a request that arrives as it ends is still
 * handled, because Temporal refuses the completion and replays the task with
 * the signal.
 */
export async function indexShardWorkflow(input: IndexShardInput): Promise<IndexShardResult> {
  const pending = new FairPending(input.pending);
  setHandler(indexTargetsSignal, ({ memories }) => pending.add(memories));
  const result: IndexShardResult = { batches: 0, indexed: 0, current: 0, deleted: 0, failed: 0 };
  let lastBatchAt = Number.NEGATIVE_INFINITY;
  for (;;) {
    if (pending.isEmpty()) {
      await condition(() => !pending.isEmpty(), input.idleMs ?? DEFAULT_IDLE_MS);
      // A request delivered together with the idle timer's expiry is in `pending` by now.
      if (pending.isEmpty()) return result;
    }
    const batchesPerRun = input.batchesPerRun ?? BATCHES_PER_RUN;
    if (result.batches >= batchesPerRun || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof indexShardWorkflow>({ ...input, pending: pending.drain() });
    }
    // Runs recorded with batches of 32 replay with them.
    const batchMax = patched('index-batch-256') ? SHARD_BATCH_MAX : INDEX_BATCH_MAX;
    // Runs recorded before batches gathered replay without the wait.
    if (patched('index-shard-gather')) {
      const wait = lastBatchAt + (input.gatherMs ?? DEFAULT_GATHER_MS) - Date.now();
      if (wait > 0 && pending.size < batchMax) {
        await condition(() => pending.size >= batchMax, wait);
      }
      lastBatchAt = Date.now();
    }
    const outcome = await indexBatch(pending.take(batchMax));
    // Changed while they were indexed: another pass, re-embedding the revision they have now.
    pending.add(outcome.stale.map(({ userId, memoryId }) => ({ userId, memoryId, force: true })));
    result.indexed += outcome.indexed;
    result.current += outcome.current;
    result.deleted += outcome.deleted;
    result.failed += outcome.failed;
    result.batches++;
  }
}
