import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineSignal,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { IndexTarget } from '../core/indexing/indexer.ts';
import { indexingActivityOptions, isBadInput } from './index-memory.workflow.ts';
import { PendingMemories, type PendingMemory } from './index-user.state.ts';

export type { PendingMemory } from './index-user.state.ts';

export interface IndexUserInput {
  userId: string;
  /** Memories still to index, carried over a continue-as-new. */
  pending?: PendingMemory[];
  /** How long the run waits for more requests once it has nothing to do (default 5 s). */
  idleMs?: number;
  /** Batches after which the run continues as new (default 100: about 2,500 events). */
  batchesPerRun?: number;
}

/** What this run (since its start or last continue-as-new) did. */
export interface IndexUserResult {
  batches: number;
  indexed: number;
  /** Already indexed at their latest revision when their turn came. */
  current: number;
  deleted: number;
  /** Refused by an index (bad input): marked failed. */
  failed: number;
}

export interface IndexMemoriesRequest {
  memories: PendingMemory[];
}

/** Asks the user's run to index (or take another pass over) these memories. */
export const indexMemoriesSignal = defineSignal<[IndexMemoriesRequest]>('indexMemories');

/**
 * The workflow id of a user's indexing on `taskQueue`: one run per user at a
 * time. The queue is part of it (as in the scheduler's and the reconciler's
 * ids) so a request never lands in a run left on a queue nobody polls any
 * more (a renamed queue, a second deployment in the namespace, a test's API).
 */
export const indexUserWorkflowId = (userId: string, taskQueue: string) =>
  `index-user-${userId}-${taskQueue}`;

/** Memories per activity call: bounds how long a batch holds the embedder. */
export const INDEX_USER_BATCH_MAX = 32;
const BATCHES_PER_RUN = 100;
const DEFAULT_IDLE_MS = 5_000;

// A batch embeds and extracts up to 32 memories (extraction may wait on the model), so it
// gets minutes, not the per-memory 30 s; heartbeats still notice a dead worker within 30 s.
const { indexVectors, indexGraphs, markIndexedBatch } = proxyActivities<Activities>({
  ...indexingActivityOptions,
  startToCloseTimeout: '5 minutes',
  heartbeatTimeout: '30 seconds',
});
const { indexVector, indexGraph, markIndexed, forgetMemory, markIndexFailed } =
  proxyActivities<Activities>(indexingActivityOptions);

/**
 * Indexes one user's memories (workflow id `index-user-<user id>-<task
 * queue>`). Saves, updates, deletes and the reconciler signal-with-start it
 * with memory ids; it indexes what is pending in batches of at most 32 (one
 * embedding call, one upsert, the graphs, each revision recorded as indexed
 * once), takes another pass over a memory that changed meanwhile, forgets
 * deleted ones, and marks content an index refuses as failed. It ends after a few idle
 * seconds; a request that arrives as it ends is still handled, because
 * Temporal refuses the completion and replays the task with the signal.
 */
export async function indexUserWorkflow(input: IndexUserInput): Promise<IndexUserResult> {
  const pending = new PendingMemories(input.pending);
  setHandler(indexMemoriesSignal, ({ memories }) => pending.add(memories));
  const result: IndexUserResult = { batches: 0, indexed: 0, current: 0, deleted: 0, failed: 0 };
  for (;;) {
    if (pending.isEmpty()) {
      await condition(() => !pending.isEmpty(), input.idleMs ?? DEFAULT_IDLE_MS);
      // A request delivered together with the idle timer's expiry is in `pending` by now.
      if (pending.isEmpty()) return result;
    }
    const batchesPerRun = input.batchesPerRun ?? BATCHES_PER_RUN;
    if (result.batches >= batchesPerRun || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof indexUserWorkflow>({ ...input, pending: pending.drain() });
    }
    await indexBatch(input.userId, pending.take(INDEX_USER_BATCH_MAX), pending, result);
    result.batches++;
  }
}

/** One pass over up to 32 memories; what changed meanwhile goes back to `pending`. */
async function indexBatch(
  userId: string,
  batch: readonly PendingMemory[],
  pending: PendingMemories,
  result: IndexUserResult,
): Promise<void> {
  const targets = batch.map(({ memoryId }): IndexTarget => ({ userId, memoryId }));
  const force = batch.filter((m) => m.force).map((m) => m.memoryId);
  try {
    const plans = await indexVectors(targets, force);
    const due = targets.flatMap((target, i) => {
      const plan = plans[i]!;
      return plan.kind === 'index' ? [{ target, revision: plan.revision }] : [];
    });
    const deleted = targets.filter((_, i) => plans[i]!.kind === 'deleted');
    if (due.length > 0) await indexGraphs(due.map((d) => d.target));
    const { stale } = due.length > 0 ? await markIndexedBatch(due) : { stale: [] };
    // Changed while it was indexed: another pass, re-embedding the revision it has now.
    pending.add(stale.map(({ memoryId }) => ({ memoryId, force: true })));
    await Promise.all(deleted.map((target) => forgetMemory(target)));
    result.indexed += due.length - stale.length;
    result.current += targets.length - due.length - deleted.length;
    result.deleted += deleted.length;
  } catch (error) {
    if (!isBadInput(error)) throw error;
    // An index refused one memory's content: take them one by one to find which.
    for (const memory of batch) await indexOne(userId, memory, pending, result);
  }
}

/** The per-memory pass (as `indexMemoryWorkflow` takes it), for a batch an index refused. */
async function indexOne(
  userId: string,
  { memoryId, force = false }: PendingMemory,
  pending: PendingMemories,
  result: IndexUserResult,
): Promise<void> {
  const target = { userId, memoryId };
  try {
    const plan = await indexVector(target, force);
    if (plan.kind === 'deleted') {
      await forgetMemory(target);
      result.deleted++;
    } else if (plan.kind === 'current') {
      result.current++;
    } else {
      await indexGraph(target);
      const { stale } = await markIndexed(target, plan.revision);
      if (stale) pending.add([{ memoryId, force: true }]);
      else result.indexed++;
    }
  } catch (error) {
    // Refused content is refused on every retry: show it as failed; an edit asks again.
    if (!isBadInput(error)) throw error;
    await markIndexFailed(target);
    result.failed++;
  }
}
