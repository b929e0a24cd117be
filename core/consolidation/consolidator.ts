import type { GraphStore } from '../ports/graph-store.ts';
import type { IndexingQueue } from '../ports/indexing-queue.ts';
import type { ConsolidationChange, Memory, RelationalStore } from '../ports/relational-store.ts';
import type { VectorSpaces } from '../ports/vector-space.ts';
import {
  DEFAULT_MAX_TAGS,
  isMergeable,
  mergeChanges,
  planMerges,
  planRetirements,
  retirementChange,
  slotOf,
  supersededIds,
  type Neighbour,
} from './rules.ts';
import { addCounts, emptyCounts, type ConsolidationCounts } from './counts.ts';

export { addCounts, emptyCounts, type ConsolidationCounts } from './counts.ts';

/**
 * Where one user's consolidation stands: the phase and the last id it
 * finished, with the counts so far. Heartbeats carry it, so a retried
 * attempt resumes after the last finished page instead of starting over.
 */
export type ConsolidationProgress =
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
  /** Re-indexes survivors whose tags changed; without it the index reconciler does. */
  indexingQueue?: IndexingQueue;
}

/**
 * Consolidates one user's memories in three phases, each page committed
 * before the next is read, so re-running any part changes nothing twice:
 * 1. memories, in id order: archive outdated ones and merge near-duplicates
 *    (see `rules.ts`);
 * 2. vectors, per space index: delete vectors whose memory is gone;
 * 3. graph: delete entities no memory mentions.
 */
export function createConsolidator(deps: ConsolidatorDeps) {
  const { store, spaces, graph, indexingQueue } = deps;

  /** Plans and applies one page's changes; returns what it did. */
  async function consolidatePage(
    input: ConsolidateUserInput,
    page: Memory[],
  ): Promise<ConsolidationCounts> {
    const { userId, now } = input;
    const counts = emptyCounts();

    const newestInSlot = new Map<string, Memory>();
    for (const slot of new Set(page.map(slotOf).filter((s) => s !== null))) {
      const { items } = await store.listMemories(userId, { tag: slot, state: 'active', limit: 1 });
      if (items[0]) newestInSlot.set(slot, items[0]);
    }
    const named = [...new Set(page.flatMap(supersededIds))];
    const superseded = named.length > 0 ? await store.getMemories(userId, named) : [];
    const retirements = planRetirements({ page, now, newestInSlot, superseded });
    const retired = new Set(retirements.map((r) => r.memory.id));

    const merges = await planPageMerges(input, page, retired);

    const groups: ConsolidationChange[][] = [
      ...retirements.map((r) => [retirementChange(r, now)]),
      ...merges.map((plan) => mergeChanges(plan, now)),
    ];
    if (groups.length === 0) return counts;
    const outcome = await store.applyConsolidation(userId, groups);
    retirements.forEach((r, i) => {
      if (!outcome.applied[i]) counts.skipped++;
      else if (r.reason === 'expired') counts.expired++;
      else counts.superseded++;
    });
    merges.forEach((plan, i) => {
      if (outcome.applied[retirements.length + i]) counts.merged += plan.duplicates.length;
      else counts.skipped++;
    });
    if (outcome.reindex.length > 0) {
      await indexingQueue?.request(outcome.reindex.map((memoryId) => ({ userId, memoryId })));
    }
    return counts;
  }

  /** Near-duplicate groups among the page's memories and their neighbours in the serving space. */
  async function planPageMerges(
    input: ConsolidateUserInput,
    page: Memory[],
    retired: ReadonlySet<string>,
  ) {
    const { userId, now } = input;
    const space = spaces.serving();
    const sources = page.filter((m) => !retired.has(m.id) && isMergeable(m, now));
    if (!space || sources.length === 0) return [];
    const vectors = await space.index.getVectors(
      userId,
      sources.map((m) => m.id),
    );
    const searched = sources.filter((m) => vectors.has(m.id));
    const hits = await space.index.searchBatch(
      searched.map((m) => ({ userId, vector: vectors.get(m.id)!, limit: input.neighbours ?? 10 })),
    );
    const neighbours = new Map<string, Neighbour[]>();
    searched.forEach((m, i) => {
      const close = (hits[i] ?? []).filter((h) => h.score >= input.threshold && h.id !== m.id);
      if (close.length > 0) neighbours.set(m.id, close);
    });
    if (neighbours.size === 0) return [];
    const memories = new Map(page.map((m) => [m.id, m]));
    const missing = [...new Set([...neighbours.values()].flat().map((h) => h.id))].filter(
      (id) => !memories.has(id),
    );
    for (const m of await store.getMemories(userId, missing)) memories.set(m.id, m);
    return planMerges({
      sources,
      neighbours,
      memories,
      threshold: input.threshold,
      now,
      exclude: retired,
      maxTags: input.maxTags ?? DEFAULT_MAX_TAGS,
    });
  }

  return {
    async consolidateUser(
      input: ConsolidateUserInput,
      options: ConsolidateUserOptions = {},
    ): Promise<ConsolidationCounts> {
      const { userId } = input;
      const pageSize = Math.max(1, Math.min(1000, input.pageSize ?? 100));
      let progress: ConsolidationProgress = options.resume ?? {
        phase: 'memories',
        counts: emptyCounts(),
      };
      const report = (next: ConsolidationProgress) => {
        progress = next;
        options.onProgress?.(next);
      };

      while (progress.phase === 'memories') {
        const { afterId, counts } = progress;
        const page = await store.pageActiveMemories(userId, {
          limit: pageSize,
          ...(afterId ? { afterId } : {}),
        });
        if (page.length === 0) {
          report({ phase: 'vectors', index: 0, counts });
          break;
        }
        const done = await consolidatePage(input, page);
        report({
          phase: 'memories',
          afterId: page[page.length - 1]!.id,
          counts: addCounts(counts, done),
        });
      }

      const indexes = spaces.indexes();
      while (progress.phase === 'vectors') {
        const { index: at, afterId, counts } = progress;
        const index = indexes[at];
        if (!index) {
          report({ phase: 'graph', counts });
          break;
        }
        const ids = await index.listIds(userId, {
          limit: pageSize,
          ...(afterId ? { afterId } : {}),
        });
        if (ids.length === 0) {
          report({ phase: 'vectors', index: at + 1, counts });
          continue;
        }
        const kept = new Set((await store.getMemories(userId, ids)).map((m) => m.id));
        const orphans = ids.filter((id) => !kept.has(id));
        if (orphans.length > 0) await index.delete(userId, orphans);
        report({
          phase: 'vectors',
          index: at,
          afterId: ids[ids.length - 1]!,
          counts: {
            ...counts,
            orphanVectors: counts.orphanVectors + orphans.length,
            bytesFreed: counts.bytesFreed + orphans.length * index.dimension * 4,
          },
        });
      }

      const counts = progress.counts;
      const orphanEntities = await graph.deleteOrphanEntities(userId);
      return { ...counts, orphanEntities: counts.orphanEntities + orphanEntities };
    },
  };
}

export type Consolidator = ReturnType<typeof createConsolidator>;
