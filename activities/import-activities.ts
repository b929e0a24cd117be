import { ApplicationFailure } from '@temporalio/activity';
import { mapLimit } from '../core/concurrency/limits.ts';
import { createIndexer, type BatchTarget, type IndexTarget } from '../core/indexing/indexer.ts';
import { DEFAULT_IMPORT_SETTINGS } from '../core/portability/import-service.ts';
import type { IndexingQueue } from '../core/ports/indexing-queue.ts';
import type { NarrativeQueue } from '../core/ports/narrative-queue.ts';
import type { PortabilityStore } from '../core/ports/portability-store.ts';
import type { IndexerDeps } from '../core/indexing/indexing-types.ts';
import { heartbeatingWithinTimeout } from './heartbeat.ts';

export interface ImportActivityDeps extends IndexerDeps {
  portability?: PortabilityStore;
  indexingQueue: IndexingQueue;
  narrativeQueue?: NarrativeQueue;
}

export interface ImportPageInput {
  importId: string;
  userId: string;
  /** The last line the run has taken: the page starts after it. */
  afterLine: number;
  /** Memories this page takes at most (default {@link IMPORT_PAGE}). */
  limit?: number;
}

export interface ImportPageResult {
  /** The last line this page took (`afterLine` when it took none). */
  afterLine: number;
  /** Memories the page took. */
  taken: number;
  /** Indexed now, found indexed, or deleted meanwhile: finished either way. */
  indexed: number;
  /** Refused by an index: marked failed. */
  failed: number;
  /** Edited while indexed: handed (forced) to the user's indexing run. */
  requeued: number;
  /** Lines may still arrive (the upload is still open); meaningful when `taken` is 0. */
  receiving: boolean;
}

/** Memories one page activity takes: a few batches, so the run's history grows slowly. */
export const IMPORT_PAGE = 256;
/**
 * Memories per embedding call and per pass: the indexing runs' own bound,
 * so an import's batch never holds the background embedder longer than a
 * shard's does, and other users' saves interleave between batches.
 */
const IMPORT_BATCH = 32;
/** Batches of one page in flight at once: what one import may take of the worker. */
const BATCHES_IN_FLIGHT = 2;
/** Extraction groups (one model call each) a batch runs at once, as the shard runs do. */
const GRAPH_CONCURRENCY = 8;

/**
 * The activities of an import's indexing run: index the next page of its
 * memories in line order (bounded batches through the same steps as every
 * save's indexing, each idempotent, so a page retried after a crash redoes
 * nothing already recorded), and finish it.
 */
export function createImportActivities(deps: ImportActivityDeps) {
  const indexer = createIndexer(deps);
  const portability = (): PortabilityStore => {
    if (!deps.portability) {
      throw ApplicationFailure.nonRetryable('this worker has no portability store', 'BadInput');
    }
    return deps.portability;
  };

  async function indexPage(input: ImportPageInput): Promise<ImportPageResult> {
    const store = portability();
    const { importId, userId } = input;
    const next = await store.nextToIndex(userId, importId, {
      afterLine: input.afterLine,
      limit: input.limit ?? IMPORT_PAGE,
    });
    const result = { afterLine: input.afterLine, taken: next.length, indexed: 0, failed: 0 };
    if (next.length === 0) {
      const receiving = await store.importStillReceiving(importId, DEFAULT_IMPORT_SETTINGS.stallMs);
      return { ...result, requeued: 0, receiving };
    }
    const stale: IndexTarget[] = [];
    const batches: BatchTarget[][] = [];
    for (let i = 0; i < next.length; i += IMPORT_BATCH) {
      batches.push(next.slice(i, i + IMPORT_BATCH).map((m) => ({ userId, memoryId: m.memoryId })));
    }
    // Two batches at once: one's store round trips overlap the other's embedding.
    await mapLimit(batches, BATCHES_IN_FLIGHT, async (batch) => {
      const outcome = await indexer.indexBatch(batch, { graphConcurrency: GRAPH_CONCURRENCY });
      result.indexed += outcome.indexed + outcome.current + outcome.deleted;
      result.failed += outcome.failed;
      stale.push(...outcome.stale);
    });
    // Edited meanwhile: the edit asked the user's run already; forced, so no older vector stays.
    if (stale.length > 0) await deps.indexingQueue.request(stale, { force: true });
    const afterLine = next[next.length - 1]!.line;
    await store.recordImportIndexing(importId, {
      throughLine: afterLine,
      indexed: result.indexed + stale.length,
      failed: result.failed,
      done: false,
    });
    return { ...result, afterLine, requeued: stale.length, receiving: true };
  }

  return {
    /** Indexes the import's next page of memories; reports what it did and whether lines may still come. */
    indexImportPage: (input: ImportPageInput): Promise<ImportPageResult> =>
      heartbeatingWithinTimeout(() => indexPage(input)),

    /** Marks the import's indexing done and asks for the user's portrait to be refreshed. */
    async finishImportIndexing(input: { importId: string; userId: string }): Promise<void> {
      await portability().recordImportIndexing(input.importId, {
        throughLine: 0,
        indexed: 0,
        failed: 0,
        done: true,
      });
      await deps.narrativeQueue?.enqueue([{ userId: input.userId, priority: 'low' }]);
    },
  };
}
