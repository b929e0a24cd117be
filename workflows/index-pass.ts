import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { BatchTarget, IndexTarget } from '../core/indexing/indexer.ts';
import { indexingActivityOptions, isBadInput } from './index-memory.workflow.ts';

/** A memory an indexing run is asked to index, with its user (and whether to re-embed). */
export type PendingTarget = BatchTarget;

/** What a run's passes did (since its start or last continue-as-new). */
export interface IndexPassCounts {
  indexed: number;
  /** Already indexed at their latest revision when their turn came. */
  current: number;
  deleted: number;
  /** Refused by an index (bad input): marked failed. */
  failed: number;
}

/**
 * Memories per activity call of a per-user run (`indexUserWorkflow`, kept for
 * runs recorded before shards), and of a shard run recorded before the
 * `index-batch-256` patch: bounds how long a batch holds the embedder.
 */
export const INDEX_BATCH_MAX = 32;

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
 * One pass over up to {@link INDEX_BATCH_MAX} memories, of one user or of
 * several: one embedding call and one upsert, the graphs, each revision
 * recorded as indexed once, deleted ones forgotten. What changed meanwhile
 * goes to `again` (forced). When an index refuses the batch, the memories
 * are taken one by one, so only the refused content is marked failed.
 */
export async function indexPass(
  batch: readonly PendingTarget[],
  again: (targets: PendingTarget[]) => void,
  counts: IndexPassCounts,
): Promise<void> {
  const targets = batch.map(({ userId, memoryId }): IndexTarget => ({ userId, memoryId }));
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
    again(stale.map(({ userId, memoryId }) => ({ userId, memoryId, force: true })));
    await Promise.all(deleted.map((target) => forgetMemory(target)));
    counts.indexed += due.length - stale.length;
    counts.current += targets.length - due.length - deleted.length;
    counts.deleted += deleted.length;
  } catch (error) {
    if (!isBadInput(error)) throw error;
    // An index refused one memory's content: take them one by one to find which.
    for (const memory of batch) await indexOne(memory, again, counts);
  }
}

/** The per-memory pass (as `indexMemoryWorkflow` takes it), for a batch an index refused. */
async function indexOne(
  { userId, memoryId, force = false }: PendingTarget,
  again: (targets: PendingTarget[]) => void,
  counts: IndexPassCounts,
): Promise<void> {
  const target = { userId, memoryId };
  try {
    const plan = await indexVector(target, force);
    if (plan.kind === 'deleted') {
      await forgetMemory(target);
      counts.deleted++;
    } else if (plan.kind === 'current') {
      counts.current++;
    } else {
      await indexGraph(target);
      const { stale } = await markIndexed(target, plan.revision);
      if (stale) again([{ userId, memoryId, force: true }]);
      else counts.indexed++;
    }
  } catch (error) {
    // Refused content is refused on every retry: show it as failed; an edit asks again.
    if (!isBadInput(error)) throw error;
    await markIndexFailed(target);
    counts.failed++;
  }
}
