import { ApplicationFailure } from '@temporalio/activity';
import { AppError } from '../core/errors.ts';
import type { EntityExtractor } from '../core/extraction/entity-extractor.ts';
import { createIndexer, type IndexTarget } from '../core/indexing/indexer.ts';
import type { Embedder } from '../core/ports/embedder.ts';
import type { GraphStore } from '../core/ports/graph-store.ts';
import type { IndexingQueue } from '../core/ports/indexing-queue.ts';
import type { RelationalStore, SelfCheck } from '../core/ports/relational-store.ts';
import type { VectorIndex } from '../core/ports/vector-index.ts';

/** The ports activities run over; the worker builds the real ones. */
export interface ActivityDeps {
  store: RelationalStore;
  vectors: VectorIndex;
  graph: GraphStore;
  embedder: Embedder;
  extractor: EntityExtractor;
  indexingQueue: IndexingQueue;
}

export interface RecordSelfCheckInput {
  workflowId: string;
  note: string;
}

// Bad input will fail the same way on every retry: stop retrying at once.
async function nonRetryableOnBadInput<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AppError && error.code === 'bad_request') {
      throw ApplicationFailure.nonRetryable(error.message, 'BadInput');
    }
    throw error;
  }
}

/**
 * Builds every activity over the given ports, as in Temporal's
 * dependency-injection sample: activities stay thin, logic lives in `core/`.
 */
export function createActivities(deps: ActivityDeps) {
  const { store, indexingQueue } = deps;
  const indexer = createIndexer(deps);
  return {
    /** Writes one self-check row (idempotent per workflow id) and returns it. */
    async recordSelfCheck(input: RecordSelfCheckInput): Promise<SelfCheck> {
      if (!input.workflowId || input.note.length > 1000) {
        throw ApplicationFailure.nonRetryable('self-check input is invalid', 'BadInput');
      }
      return store.recordSelfCheck(input);
    },

    indexVector: (target: IndexTarget) => nonRetryableOnBadInput(() => indexer.indexVector(target)),
    indexGraph: (target: IndexTarget) => nonRetryableOnBadInput(() => indexer.indexGraph(target)),
    markIndexed: (target: IndexTarget, revision: number) => indexer.markIndexed(target, revision),
    forgetMemory: (target: IndexTarget) => indexer.forget(target),
    markIndexFailed: (target: IndexTarget) => store.markIndexFailed(target.userId, target.memoryId),

    /** Re-requests indexing nobody finished: saves whose start was lost, stalled runs, deletes. */
    async requeueStaleIndexing(input: { olderThanMs: number; limit: number }) {
      const tasks = await store.staleIndexTasks(input.olderThanMs, input.limit);
      await indexingQueue.request(tasks);
      return { requeued: tasks.length };
    },
  };
}

export type Activities = ReturnType<typeof createActivities>;
