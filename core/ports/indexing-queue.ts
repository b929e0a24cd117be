import type { IndexTarget } from '../indexing/indexer.ts';

/**
 * Port for asking the workflow engine to (re)index memories. One durable
 * indexing run per user: asking again while it runs adds the memories to
 * what it indexes next (at their latest revision), never a second
 * concurrent run.
 */
export interface IndexingQueue {
  /**
   * Targets of one user are indexed together in batches by that user's run.
   * `force` makes it re-embed each memory even if it is marked indexed.
   * Settles within a short deadline even when the engine is unreachable:
   * callers hold a user's request while it runs, and a request that fails is
   * asked again by the index reconciler.
   */
  request(targets: readonly IndexTarget[], options?: { force?: boolean }): Promise<void>;
}
