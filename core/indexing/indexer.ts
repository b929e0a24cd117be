import {
  forgetDeleted,
  indexBatch,
  type BatchTarget,
  type IndexBatchOptions,
} from './index-batch.ts';
import { indexGraph, indexGraphs } from './index-graph.ts';
import { indexVector, indexVectors } from './index-vectors.ts';
import type { IndexerDeps, IndexTarget } from './indexing-types.ts';
import { markIndexed, markIndexedMany } from './mark-indexed.ts';

export type { BatchOutcome, BatchTarget } from './index-batch.ts';
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
    forget: (target: IndexTarget) => forgetDeleted(deps, target),
    indexBatch: (batch: readonly BatchTarget[], options: IndexBatchOptions) =>
      indexBatch(deps, batch, options),
  };
}

export type Indexer = ReturnType<typeof createIndexer>;
