import type { GraphStore } from '../ports/graph-store.ts';
import type { RelationalStore } from '../ports/relational-store.ts';
import type { VectorSpaces } from '../ports/vector-space.ts';
import type { ConsolidationProgress, PhaseRun } from './consolidation-types.ts';

type ExpiredProgress = Extract<ConsolidationProgress, { phase: 'expired' }>;

export interface PurgeDeps {
  store: Pick<RelationalStore, 'purgeExpiredMemories' | 'clearTombstone'>;
  spaces: VectorSpaces;
  graph: GraphStore;
}

/**
 * Phase 0: deletes the user's memories that expired by the run's clock, a
 * page at a time, reporting after each, and returns the progress that starts
 * the memories phase. Each page's rows go first, leaving tombstones; then
 * their vectors in every space and their graph entries; then the tombstones.
 * A run stopped in between leaves tombstones, which the index reconciler
 * finishes, so nothing expired stays in any index.
 */
export async function purgeExpired(
  deps: PurgeDeps,
  run: PhaseRun,
  now: Date,
  from: ExpiredProgress,
): Promise<ConsolidationProgress> {
  let { counts } = from;
  for (;;) {
    const ids = await deps.store.purgeExpiredMemories(run.userId, { now, limit: run.pageSize });
    if (ids.length > 0) await forgetAll(deps, run.userId, ids);
    counts = { ...counts, purged: (counts.purged ?? 0) + ids.length };
    const next: ConsolidationProgress =
      ids.length < run.pageSize ? { phase: 'memories', counts } : { phase: 'expired', counts };
    run.report(next);
    if (next.phase === 'memories') return next;
  }
}

/** Removes the memories from every index and the graph, then their tombstones. */
async function forgetAll(deps: PurgeDeps, userId: string, ids: readonly string[]) {
  for (const index of deps.spaces.indexes()) await index.delete(userId, ids);
  for (const id of ids) await deps.graph.deleteMemory(userId, id);
  for (const id of ids) await deps.store.clearTombstone(id);
}
