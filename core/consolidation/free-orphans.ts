import type { GraphStore } from '../ports/graph-store.ts';
import type { RelationalStore } from '../ports/relational-store.ts';
import type { VectorIndex } from '../ports/vector-index.ts';
import type { VectorSpaces } from '../ports/vector-space.ts';
import type { ConsolidationProgress, PhaseRun } from './consolidation-types.ts';
import type { ConsolidationCounts } from './counts.ts';

type VectorsProgress = Extract<ConsolidationProgress, { phase: 'vectors' }>;
type Store = Pick<RelationalStore, 'getMemories'>;

/**
 * Phase 2: walks every space's index a page of ids at a time and deletes the
 * vectors whose memory is gone, reporting after each page. Returns the
 * progress that starts the graph phase.
 */
export async function freeOrphanVectors(
  deps: { store: Store; spaces: VectorSpaces },
  run: PhaseRun,
  from: VectorsProgress,
): Promise<ConsolidationProgress> {
  const indexes = deps.spaces.indexes();
  let progress: ConsolidationProgress = from;
  while (progress.phase === 'vectors') {
    progress = await orphanVectorPage(deps.store, run, indexes, progress);
    run.report(progress);
  }
  return progress;
}

/** Frees the orphans in one page of one index; returns where the walk goes next. */
async function orphanVectorPage(
  store: Store,
  { userId, pageSize }: PhaseRun,
  indexes: readonly VectorIndex[],
  { index: at, afterId, counts }: VectorsProgress,
): Promise<ConsolidationProgress> {
  const index = indexes[at];
  if (!index) return { phase: 'graph', counts };
  const ids = await index.listIds(userId, { limit: pageSize, ...(afterId ? { afterId } : {}) });
  if (ids.length === 0) return { phase: 'vectors', index: at + 1, counts };
  const kept = new Set((await store.getMemories(userId, ids)).map((m) => m.id));
  const orphans = ids.filter((id) => !kept.has(id));
  if (orphans.length > 0) await index.delete(userId, orphans);
  return {
    phase: 'vectors',
    index: at,
    afterId: ids[ids.length - 1]!,
    counts: {
      ...counts,
      orphanVectors: counts.orphanVectors + orphans.length,
      bytesFreed: counts.bytesFreed + orphans.length * index.dimension * 4,
    },
  };
}

/** Phase 3: deletes the graph entities no memory of the user mentions; returns the final counts. */
export async function freeOrphanEntities(
  graph: GraphStore,
  userId: string,
  counts: ConsolidationCounts,
): Promise<ConsolidationCounts> {
  const orphanEntities = await graph.deleteOrphanEntities(userId);
  return { ...counts, orphanEntities: counts.orphanEntities + orphanEntities };
}
