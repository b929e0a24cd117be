import type { GraphStore } from '../ports/graph-store.ts';
import type { IndexingQueue } from '../ports/indexing-queue.ts';
import type { RelationalStore } from '../ports/relational-store.ts';
import type { VectorSpaces } from '../ports/vector-space.ts';
import type { ConsolidationCounts } from './counts.ts';

/**
 * Where one user's consolidation stands: the phase and the last id it
 * finished, with the counts so far. Heartbeats carry it, so a retried
 * attempt resumes after the last finished page instead of starting over.
 * (The expired phase needs no position: each page deletes what it read.)
 */
export type ConsolidationProgress =
  | { phase: 'expired'; counts: ConsolidationCounts }
  | { phase: 'memories'; afterId?: string; counts: ConsolidationCounts }
  | { phase: 'vectors'; index: number; afterId?: string; counts: ConsolidationCounts }
  | { phase: 'graph'; counts: ConsolidationCounts };

export interface ConsolidateUserInput {
  userId: string;
  /** Cosine similarity at or above which two memories are near-duplicates. */
  threshold: number;
  /** The run's clock: expiry is judged against it and it dates every change. */
  now: Date;
  /** Memories (and vector ids) per page (default 100). */
  pageSize?: number;
  /** Nearest vectors looked at per memory (default 10). */
  neighbours?: number;
  maxTags?: number;
}

export interface ConsolidateUserOptions {
  /** Progress of an earlier attempt to pick up from. */
  resume?: ConsolidationProgress;
  /** Called after every finished page (heartbeat it). */
  onProgress?: (progress: ConsolidationProgress) => void;
}

export interface ConsolidatorDeps {
  store: RelationalStore;
  spaces: VectorSpaces;
  graph: GraphStore;
  /** Re-indexes the memories a page changed; without it the index reconciler does. */
  indexingQueue?: IndexingQueue;
}

/** One phase's view of the run: whose memories, how many per page, and where to report. */
export interface PhaseRun {
  userId: string;
  pageSize: number;
  report: (progress: ConsolidationProgress) => void;
}
