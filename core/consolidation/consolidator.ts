import { consolidatePage } from './consolidate-page.ts';
import type {
  ConsolidateUserInput,
  ConsolidateUserOptions,
  ConsolidationProgress,
  ConsolidatorDeps,
  PhaseRun,
} from './consolidation-types.ts';
import { addCounts, emptyCounts, type ConsolidationCounts } from './counts.ts';
import { freeOrphanEntities, freeOrphanVectors } from './free-orphans.ts';
import { purgeExpired } from './purge-expired.ts';

export { addCounts, emptyCounts, type ConsolidationCounts } from './counts.ts';
export type {
  ConsolidateUserInput,
  ConsolidateUserOptions,
  ConsolidationProgress,
  ConsolidatorDeps,
} from './consolidation-types.ts';

type MemoriesProgress = Extract<ConsolidationProgress, { phase: 'memories' }>;

/**
 * Consolidates one user's memories in four phases, each page committed
 * before the next is read, so re-running any part changes nothing twice:
 * 0. expired: delete memories past their `expires_at`, with their vectors
 *    and graph entries;
 * 1. memories, in id order: archive outdated ones and merge near-duplicates
 *    (see `rules.ts`);
 * 2. vectors, per space index: delete vectors whose memory is gone;
 * 3. graph: delete entities no memory mentions.
 */
export function createConsolidator({ store, spaces, graph, indexingQueue }: ConsolidatorDeps) {
  const deps: ConsolidatorDeps = { store, spaces, graph, indexingQueue };
  return {
    async consolidateUser(
      input: ConsolidateUserInput,
      options: ConsolidateUserOptions = {},
    ): Promise<ConsolidationCounts> {
      const run: PhaseRun = {
        userId: input.userId,
        pageSize: Math.max(1, Math.min(1000, input.pageSize ?? 100)),
        report: (next) => options.onProgress?.(next),
      };
      let progress: ConsolidationProgress = options.resume ?? {
        phase: 'expired',
        counts: emptyCounts(),
      };
      if (progress.phase === 'expired') {
        progress = await purgeExpired(deps, run, input.now, progress);
      }
      if (progress.phase === 'memories') {
        progress = await consolidateMemories(deps, input, run, progress);
      }
      if (progress.phase === 'vectors') progress = await freeOrphanVectors(deps, run, progress);
      return freeOrphanEntities(graph, input.userId, progress.counts);
    },
  };
}

export type Consolidator = ReturnType<typeof createConsolidator>;

/**
 * Phase 1: pages through the user's active memories in id order, retiring
 * and merging page by page and reporting after each. Returns the progress
 * that starts the vectors phase.
 */
async function consolidateMemories(
  deps: ConsolidatorDeps,
  input: ConsolidateUserInput,
  run: PhaseRun,
  from: MemoriesProgress,
): Promise<ConsolidationProgress> {
  let progress: ConsolidationProgress = from;
  while (progress.phase === 'memories') {
    progress = await memoryPage(deps, input, run, progress);
    run.report(progress);
  }
  return progress;
}

/** Consolidates the page after `afterId`; returns where the walk goes next. */
async function memoryPage(
  deps: ConsolidatorDeps,
  input: ConsolidateUserInput,
  { userId, pageSize }: PhaseRun,
  { afterId, counts }: MemoriesProgress,
): Promise<ConsolidationProgress> {
  const page = await deps.store.pageActiveMemories(userId, {
    limit: pageSize,
    ...(afterId ? { afterId } : {}),
  });
  if (page.length === 0) return { phase: 'vectors', index: 0, counts };
  const done = await consolidatePage(deps, input, page);
  return { phase: 'memories', afterId: page[page.length - 1]!.id, counts: addCounts(counts, done) };
}
