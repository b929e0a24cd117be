import { ApplicationFailure, Context } from '@temporalio/activity';
import { groupByUser } from '../core/indexing/indexing-types.ts';
import { goneAfterWrite } from '../core/indexing/recheck-written.ts';
import type { RelationalStore } from '../core/ports/relational-store.ts';
import type { VectorSpaces } from '../core/ports/vector-space.ts';
import { filterPayload } from '../core/retrieval/filters.ts';

export interface ReembedPageInput {
  /** The space being filled; refused when this worker is configured for another. */
  spaceId: string;
  afterId?: string;
  pageSize: number;
}

export interface ReembedPageResult {
  /** How many memories this page embedded. */
  embedded: number;
  /** The last memory id of the page; null when there are no more memories. */
  next: string | null;
}

/**
 * Activities of the re-embedding workflow: fill the configured embedder's
 * space page by page (every user's memories, in id order), then make it the
 * space searches read. Upserts are idempotent, so a retried page changes
 * nothing twice.
 */
export function createReembedActivities(deps: { store: RelationalStore; spaces: VectorSpaces }) {
  const { store, spaces } = deps;
  const targetFor = (spaceId: string) => {
    const target = spaces.target();
    if (target.id !== spaceId) {
      throw ApplicationFailure.nonRetryable(
        `this worker embeds into ${target.id}, not ${spaceId}: the configuration changed`,
        'SpaceMismatch',
      );
    }
    return target;
  };
  return {
    async reembedPage(input: ReembedPageInput): Promise<ReembedPageResult> {
      const target = targetFor(input.spaceId);
      const page = await store.pageMemoriesForEmbedding({
        limit: input.pageSize,
        ...(input.afterId ? { afterId: input.afterId } : {}),
      });
      if (page.length === 0) return { embedded: 0, next: null };
      const vectors = await target.embedder.embed(page.map((m) => m.content));
      Context.current().heartbeat({ embedded: page.length });
      await target.index.upsert(
        page.map((m, i) => ({
          id: m.id,
          userId: m.userId,
          vector: vectors[i]!,
          ...filterPayload(m),
        })),
      );
      // A memory deleted meanwhile: its clean-up may have run before this upsert.
      const byUser = groupByUser(
        page,
        (m) => m.userId,
        (m) => m.id,
      );
      for (const [userId, ids] of byUser) {
        const gone = await goneAfterWrite(store, userId, ids);
        if (gone.length > 0) await target.index.delete(userId, gone);
      }
      return { embedded: page.length, next: page[page.length - 1]!.id };
    },

    /** Makes the filled space the one searches read; this process switches at once. */
    async activateSpace(input: { spaceId: string }): Promise<{ activated: string }> {
      targetFor(input.spaceId);
      await store.activateVectorSpace(input.spaceId);
      await spaces.refresh();
      return { activated: input.spaceId };
    },
  };
}
