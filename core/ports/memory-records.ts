import type { RetrievalFilter } from './retrieval-filter.ts';

export type MemoryState = 'active' | 'archived';
export type IndexState = 'pending' | 'indexed' | 'failed';

export interface Memory {
  id: string;
  userId: string;
  content: string;
  tags: string[];
  metadata: Record<string, unknown>;
  state: MemoryState;
  indexState: IndexState;
  /** Bumped by every edit; indexing records the revision it indexed. */
  revision: number;
  createdAt: Date;
  updatedAt: Date;
  /** When the event the memory tells of happened; the save time unless the client said. */
  occurredAt: Date;
  /** When the memory stops existing for every read; null for never. */
  expiresAt: Date | null;
  /**
   * The memory's id in the client's own system (unique per user), or null;
   * the store always says, a memory built elsewhere may leave it out.
   */
  externalId?: string | null;
}

export interface MemoryPatch {
  content?: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  state?: MemoryState;
  occurredAt?: Date;
  /** A new expiry, or null to make the memory last. */
  expiresAt?: Date | null;
  /** A new external id (unique per user), or null to clear it. */
  externalId?: string | null;
}

export interface MemoryFilter {
  tag?: string;
  /** Occurred at or after. */
  from?: Date;
  /** Occurred before. */
  to?: Date;
  state?: MemoryState;
}

/** A memory whose index is out of date: new, edited, or deleted (a tombstone). */
export interface IndexTask {
  userId: string;
  memoryId: string;
  deleted: boolean;
}

export interface NewMemory {
  content: string;
  tags?: string[];
  metadata?: Record<string, unknown>;
  /** Default: the save time. */
  occurredAt?: Date;
  /** Default: never. */
  expiresAt?: Date | null;
  /**
   * The memory's id in the client's own system, unique per user: saving one
   * the user has answers with that memory (`created: false`), as content does.
   */
  externalId?: string;
}

export interface InsertMemoryResult {
  memory: Memory;
  /** False when the user already had a memory with the same content. */
  created: boolean;
}

/** One full-text query over a user's memories (active ones unless the filter names a state). */
export interface TextQuery {
  userId: string;
  query: string;
  limit: number;
  /** Shorthand for `filter.tagsAny`: only memories carrying at least one of these tags. */
  tags?: string[];
  /** Only memories that pass it (giving `tags` and `filter.tagsAny` is a `bad_request`). */
  filter?: RetrievalFilter;
}

export interface TextHit {
  id: string;
  /** BM25 relevance: higher is better; comparable within one result list. */
  score: number;
}

export interface ListMemoriesInput extends MemoryFilter {
  limit: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface MemoryPage {
  items: Memory[];
  nextCursor: string | null;
}
