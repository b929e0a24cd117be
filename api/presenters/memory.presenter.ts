import type { z } from 'zod';
import type { MemoryService } from '../../core/memories/memory-service.ts';
import type { NewMemory } from '../../core/ports/relational-store.ts';
import type { SearchService } from '../../core/retrieval/search-service.ts';
import { givenFields } from '../given-fields.ts';
import type { ApiSchemas } from '../schemas.ts';
import {
  memoryView,
  rankedView,
  saveAckView,
  type MemoryOut,
  type Presented,
  type SaveAck,
} from './views.ts';

type In<K extends keyof ApiSchemas> = z.output<ApiSchemas[K]>;

/** One saved memory, as both edges report it. */
export interface SavedMemory {
  ack: SaveAck;
  /** The content it now has: for content the user already had, their earlier wording. */
  content: string;
}

/**
 * The memory operations as both edges (REST and MCP) answer them: each takes
 * validated input and the caller's user id, calls core, and returns the body.
 */
export class MemoryPresenter {
  constructor(
    private readonly memories: MemoryService,
    private readonly searcher: SearchService,
  ) {}

  /** Saves one or more memories for the user, all or none; one entry each, in order. */
  async save(userId: string, items: readonly NewMemory[]): Promise<SavedMemory[]> {
    const results = await this.memories.save(userId, items);
    return results.map((r) => ({ ack: saveAckView(r), content: r.memory.content }));
  }

  /** One page of the user's memories, newest first. */
  async list(userId: string, query: In<'listQuery'>): Promise<Presented<In<'pageOut'>>> {
    const { cursor, tag, from, to, state } = query;
    const page = await this.memories.list(userId, {
      limit: query.limit,
      ...givenFields({
        cursor,
        tag,
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
        state,
      }),
    });
    const body = { items: page.items.map(memoryView), next_cursor: page.nextCursor };
    return { status: 200, body };
  }

  async read(userId: string, id: string): Promise<Presented<MemoryOut>> {
    return { status: 200, body: memoryView(await this.memories.get(userId, id)) };
  }

  async edit(userId: string, id: string, patch: In<'memoryPatch'>): Promise<Presented<MemoryOut>> {
    return { status: 200, body: memoryView(await this.memories.update(userId, id, patch)) };
  }

  /** Deletes one of the user's memories: nothing to show but the status. */
  async remove(userId: string, id: string): Promise<Presented<undefined>> {
    await this.memories.remove(userId, id);
    return { status: 204, body: undefined };
  }

  /**
   * The user's memories that match a query, best first, and the retrievers
   * that failed (the results are then partial, as a context's are).
   */
  async search(userId: string, input: In<'searchBody'>): Promise<Presented<In<'searchOut'>>> {
    const query = { query: input.query, limit: input.limit, ...givenFields({ tags: input.tags }) };
    const { hits, degraded } = await this.searcher.searchWithStatus(userId, query);
    return { status: 200, body: { results: hits.map(rankedView), degraded } };
  }
}
