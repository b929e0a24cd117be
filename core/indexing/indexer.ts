import { indexGraph, indexGraphs } from './index-graph.ts';
import { indexVector, indexVectors } from './index-vectors.ts';
import type { IndexerDeps, IndexTarget } from './indexing-types.ts';
import { markIndexed, markIndexedMany } from './mark-indexed.ts';

export type { IndexerDeps, IndexPlan, IndexTarget } from './indexing-types.ts';

/**
 * The steps of indexing one memory, each idempotent so a retried or
 * re-executed step after a crash changes nothing twice. The workflow runs
 * them in order and loops while the memory keeps changing. Each step is
 * documented where it is defined.
 */
export function createIndexer({ store, spaces, graph, extractor }: IndexerDeps) {
  const deps: IndexerDeps = { store, spaces, graph, extractor };
  return {
    indexVector: (target: IndexTarget, force = false) => indexVector(deps, target, force),
    indexVectors: (targets: readonly IndexTarget[], force: readonly string[] = []) =>
      indexVectors(deps, targets, force),
    indexGraph: (target: IndexTarget) => indexGraph(deps, target),
    indexGraphs: (
      targets: readonly IndexTarget[],
      options: { concurrency: number; onExtracted?: () => void },
    ) => indexGraphs(deps, targets, options),
    markIndexed: (target: IndexTarget, revision: number) => markIndexed(store, target, revision),
    markIndexedMany: (items: readonly { target: IndexTarget; revision: number }[]) =>
      markIndexedMany(store, items),
    forget: (target: IndexTarget) => forget(deps, target),
  };
}

export type Indexer = ReturnType<typeof createIndexer>;

/** Removes a deleted memory from the vector index and the graph, then its tombstone. */
async function forget(
  { store, spaces, graph }: IndexerDeps,
  { userId, memoryId }: IndexTarget,
): Promise<void> {
  if (await store.getMemory(userId, memoryId)) return;
  for (const index of spaces.indexes()) await index.delete(userId, [memoryId]);
  await graph.deleteMemory(userId, memoryId);
  await store.clearTombstone(memoryId);
}
