import { AppError } from '../errors.ts';
import type { ExportedMemory, PortabilityStore } from '../ports/portability-store.ts';
import type { Narrative, RelationalStore } from '../ports/relational-store.ts';

/** Memories an export reads per page: one bounded query, then the page is written out. */
export const EXPORT_PAGE = 1000;

/** What an export yields, in order: the narrative (when asked for and written), then memories page by page. */
export type ExportItem =
  { kind: 'narrative'; narrative: Narrative } | { kind: 'memories'; memories: ExportedMemory[] };

export interface ExportOptions {
  /** Include the user's current narrative first. */
  narrative: boolean;
}

export interface ExportServiceDeps {
  portability: Pick<PortabilityStore, 'exportPage'>;
  store: Pick<RelationalStore, 'getUser' | 'latestNarrative'>;
  /** Memories per page (default {@link EXPORT_PAGE}). */
  pageSize?: number;
}

/**
 * A user's memories, out: every memory (every state; expired ones are gone)
 * in save order, read by keyset pages, so exporting takes the same memory
 * whatever the user holds. The pages are pulled one at a time: a consumer
 * that writes each page before asking for the next (backpressure) holds
 * one page in memory.
 */
export function createExportService({
  portability,
  store,
  pageSize = EXPORT_PAGE,
}: ExportServiceDeps) {
  async function* items(userId: string, options: ExportOptions): AsyncGenerator<ExportItem> {
    if (options.narrative) {
      const narrative = await store.latestNarrative(userId);
      if (narrative) yield { kind: 'narrative', narrative };
    }
    let after: { createdAt: string; id: string } | undefined;
    for (;;) {
      const memories = await portability.exportPage(userId, {
        limit: pageSize,
        ...(after ? { after } : {}),
      });
      if (memories.length > 0) yield { kind: 'memories', memories };
      if (memories.length < pageSize) return;
      const last = memories[memories.length - 1]!;
      after = { createdAt: last.createdAt, id: last.id };
    }
  }

  return {
    /** The caller's own memories. */
    mine: (userId: string, options: ExportOptions) => items(userId, options),

    /** Any user's memories (for an admin); `not_found` for an unknown user, before anything is read. */
    async ofUser(userId: string, options: ExportOptions): Promise<AsyncGenerator<ExportItem>> {
      if (!(await store.getUser(userId)))
        throw new AppError('not_found', `user ${userId} not found`);
      return items(userId, options);
    },
  };
}

export type ExportService = ReturnType<typeof createExportService>;
