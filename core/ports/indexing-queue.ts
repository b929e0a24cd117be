import type { IndexTarget } from '../indexing/indexer.ts';

/**
 * Port for asking the workflow engine to (re)index memories. One durable
 * indexing run per memory: asking again while it runs makes it take the
 * latest revision, never a second concurrent run.
 */
export interface IndexingQueue {
  /**
   * Several targets may be indexed together in one batched run. `force`
   * makes each memory's own run re-embed it even if it is marked indexed.
   * Settles within a short deadline even when the engine is unreachable:
   * callers hold a user's request while it runs, and a request that fails is
   * asked again by the index reconciler.
   */
  request(targets: readonly IndexTarget[], options?: { force?: boolean }): Promise<void>;
}
