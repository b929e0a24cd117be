import { AppError } from '../errors.ts';
import { writeGraphs } from './index-graph.ts';
import { planVectors, writeVectors } from './index-vectors.ts';
import type { IndexerDeps, IndexTarget } from './indexing-types.ts';
import { markIndexedMany } from './mark-indexed.ts';
import { goneAfterWriteOf } from './recheck-written.ts';

/** A memory a batch is asked to index, with its user. */
export interface BatchTarget extends IndexTarget {
  /** Re-embed even if the memory is marked indexed (its vector may be an older pass's). */
  force?: boolean;
}

/** What one batch did. */
export interface BatchOutcome {
  indexed: number;
  /** Already indexed at their latest revision. */
  current: number;
  deleted: number;
  /** Refused by an index (bad input): marked failed. */
  failed: number;
  /** Changed while they were indexed: to be taken again, forced. */
  stale: IndexTarget[];
}

export interface IndexBatchOptions {
  /** Extraction groups (one model call each) in flight at once. */
  graphConcurrency: number;
  /** Called as work progresses (an activity heartbeats). */
  onProgress?: () => void;
}

const isBadInput = (error: unknown) => error instanceof AppError && error.code === 'bad_request';

/**
 * Indexes a batch of memories (of one user or of several) in one go: one
 * embedding call and one upsert per space, the graphs (extraction batched
 * per user), each revision recorded as indexed once, deleted memories
 * forgotten. Every step is idempotent, so a retried batch changes nothing
 * twice. When an index refuses the batch (bad input), the memories are taken
 * one by one and only the refused ones are marked failed; other errors
 * propagate (the caller retries).
 */
export async function indexBatch(
  deps: IndexerDeps,
  batch: readonly BatchTarget[],
  options: IndexBatchOptions,
): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { indexed: 0, current: 0, deleted: 0, failed: 0, stale: [] };
  try {
    await pass(deps, batch, options, outcome);
  } catch (error) {
    if (!isBadInput(error)) throw error;
    for (const one of batch) {
      try {
        await pass(deps, [one], options, outcome);
      } catch (oneError) {
        // Refused content is refused on every retry: show it as failed; an edit asks again.
        if (!isBadInput(oneError)) throw oneError;
        await deps.store.markIndexFailed(one.userId, one.memoryId);
        outcome.failed++;
      }
    }
  }
  return outcome;
}

/**
 * One pass; `outcome` is added to only once every step has succeeded. The
 * memories are read once: their vectors and graphs are written from that
 * read (so both are of the revision then recorded as indexed), and one read
 * after both writes finds those deleted meanwhile, which are forgotten (vectors,
 * graph and tombstone) like those found gone at first (see {@link goneAfterWriteOf}).
 */
async function pass(
  deps: IndexerDeps,
  batch: readonly BatchTarget[],
  options: IndexBatchOptions,
  outcome: BatchOutcome,
): Promise<void> {
  const targets = batch.map(({ userId, memoryId }): IndexTarget => ({ userId, memoryId }));
  const force = batch.filter((m) => m.force).map((m) => m.memoryId);
  const found = await deps.store.getMemoriesOf(targets);
  const { plans, due } = planVectors(targets, found, force);
  await writeVectors(deps, due);
  options.onProgress?.();
  await writeGraphs(deps, due, {
    concurrency: options.graphConcurrency,
    ...(options.onProgress ? { onExtracted: options.onProgress } : {}),
  });
  // Deleted meanwhile: forgotten below like those already gone, vectors and graph alike.
  const gone = new Set(
    (
      await goneAfterWriteOf(
        deps.store,
        due.map((m) => ({ userId: m.userId, memoryId: m.id })),
      )
    ).map((ref) => ref.memoryId),
  );
  const indexed = targets.flatMap((target, i) => {
    const plan = plans[i]!;
    return plan.kind === 'index' && !gone.has(target.memoryId)
      ? [{ target, revision: plan.revision }]
      : [];
  });
  const deleted = targets.filter(
    (target, i) => plans[i]!.kind === 'deleted' || gone.has(target.memoryId),
  );
  const { stale } = indexed.length > 0 ? await markIndexedMany(deps.store, indexed) : { stale: [] };
  for (const target of deleted) await forgetDeleted(deps, target);
  outcome.indexed += indexed.length - stale.length;
  outcome.current += targets.length - indexed.length - deleted.length;
  outcome.deleted += deleted.length;
  outcome.stale.push(...stale);
}

/** Removes a deleted memory from the vector index and the graph, then its tombstone. */
export async function forgetDeleted(
  { store, spaces, graph }: IndexerDeps,
  { userId, memoryId }: IndexTarget,
): Promise<void> {
  if (await store.getMemory(userId, memoryId)) return;
  for (const index of spaces.indexes()) await index.delete(userId, [memoryId]);
  await graph.deleteMemory(userId, memoryId);
  await store.clearTombstone(memoryId);
}
