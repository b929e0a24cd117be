import type { IndexTarget } from '../indexing/indexer.ts';

/**
 * Port for asking the workflow engine to (re)index memories. One durable
 * indexing run per memory: asking again while it runs makes it take the
 * latest revision, never a second concurrent run.
 */
export interface IndexingQueue {
  request(targets: readonly IndexTarget[]): Promise<void>;
}
