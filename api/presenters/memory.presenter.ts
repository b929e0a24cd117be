import type { z } from 'zod';
import type { MemoryEdit, MemoryInput, MemoryService } from '../../core/memories/memory-service.ts';
import type { SearchService } from '../../core/retrieval/search-service.ts';
import { retrievalFilter } from '../filters.schemas.ts';
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

/** A memory to save as an edge hands it over: the save schema's fields, any of the optional ones. */
export type SaveInput = Pick<In<'newMemory'>, 'content'> & Partial<In<'newMemory'>>;

const dateOf = (text: string | undefined) => (text === undefined ? undefined : new Date(text));

/** A save as core takes it: times as dates, fields not given left out. */
function memoryInput(item: SaveInput): MemoryInput {
  return {
    content: item.content,
    ...givenFields({
      tags: item.tags,
      metadata: item.metadata,
      occurredAt: dateOf(item.occurred_at),
      expiresAt: dateOf(item.expires_at),
      ttlS: item.ttl_s,
      externalId: item.external_id,
    }),
  };
}

/** An edit as core takes it; `expires_at: null` stays null (keep the memory for good). */
function memoryEdit(patch: In<'memoryPatch'>): MemoryEdit {
  const { occurred_at, expires_at, ttl_s, external_id, ...rest } = patch;
  return {
    ...rest,
    ...(external_id === undefined ? {} : { externalId: external_id }),
    ...givenFields({ occurredAt: dateOf(occurred_at), ttlS: ttl_s }),
    ...(expires_at === undefined
      ? {}
      : { expiresAt: expires_at === null ? null : new Date(expires_at) }),
  };
}

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
  async save(userId: string, items: readonly SaveInput[]): Promise<SavedMemory[]> {
    const results = await this.memories.save(userId, items.map(memoryInput));
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
        from: dateOf(from),
        to: dateOf(to),
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
    const edited = await this.memories.update(userId, id, memoryEdit(patch));
    return { status: 200, body: memoryView(edited) };
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
    const query = {
      query: input.query,
      limit: input.limit,
      ...givenFields({
        tags: input.tags,
        from: dateOf(input.from),
        to: dateOf(input.to),
        filter: retrievalFilter(input.filters),
      }),
    };
    const { hits, degraded } = await this.searcher.searchWithStatus(userId, query);
    return { status: 200, body: { results: hits.map(rankedView), degraded } };
  }
}
