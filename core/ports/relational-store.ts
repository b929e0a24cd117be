import type { ConsolidationChange, ConsolidationOutcome } from './consolidation-records.ts';
import type {
  MemoryChanges,
  MemoryChangesResult,
  MemoryRevision,
} from './memory-change-records.ts';
import type {
  IndexTask,
  InsertMemoryResult,
  ListMemoriesInput,
  Memory,
  MemoryPage,
  MemoryPatch,
  NewMemory,
  TextHit,
  TextQuery,
} from './memory-records.ts';
import type { Narrative, NewNarrative } from './narrative-records.ts';
import type { RetrievalFilter } from './retrieval-filter.ts';
import type { SelfCheck } from './self-check-record.ts';
import type { ApiKeyRecord, User } from './user-records.ts';
import type { MemoryForEmbedding, VectorSpaceRecord } from './vector-space-records.ts';

/** A memory named with its user: every cross-user call pairs the two. */
export interface MemoryRef {
  userId: string;
  memoryId: string;
}

export type { ConsolidationChange, ConsolidationOutcome } from './consolidation-records.ts';
export type {
  IndexState,
  IndexTask,
  InsertMemoryResult,
  ListMemoriesInput,
  Memory,
  MemoryFilter,
  MemoryPage,
  MemoryPatch,
  MemoryState,
  NewMemory,
  TextHit,
  TextQuery,
} from './memory-records.ts';
export type {
  MemoryChanges,
  MemoryChangesResult,
  MemoryRevision,
  MemoryRevisionUpdate,
  MemoryUpdateOutcome,
} from './memory-change-records.ts';
export type { Narrative, NewNarrative } from './narrative-records.ts';
export type { FilterScalar, RetrievalFilter } from './retrieval-filter.ts';
export type { SelfCheck } from './self-check-record.ts';
export type { ApiKeyRecord, User } from './user-records.ts';
export type { MemoryForEmbedding, VectorSpaceRecord } from './vector-space-records.ts';

/**
 * Port for the relational store: users, memories, narratives and the
 * bookkeeping the engine needs. Every memory operation is scoped by user id,
 * so no call can reach another user's rows. Adapters throw `AppError` with
 * code `dependency_unavailable` when the database cannot be reached.
 *
 * A memory whose `expiresAt` has passed (by the database's clock) is gone for
 * every read, edit and search at once, as if deleted: only
 * {@link RelationalStore.purgeExpiredMemories} still sees its row. Saving its
 * content again stores a new memory.
 */
export interface RelationalStore {
  /** `pglite` (embedded) or `postgres` (a server over a pool). */
  readonly kind: 'pglite' | 'postgres';
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  close(): Promise<void>;

  createUser(input: { name?: string | null }): Promise<User>;
  getUser(userId: string): Promise<User | null>;
  /**
   * The user's data version (null: no such user). May be answered from
   * memory, so it can lag a change made a moment ago; use it where a version
   * just before a write does no harm (cache keys whose hits are read again).
   */
  dataVersionOf(userId: string): Promise<number | null>;

  /** Marks the user active now (saved or queried); feeds narrative scheduling. */
  touchUser(userId: string): Promise<void>;

  /** Stores a key hash for the user; the key itself is never stored. */
  insertApiKey(userId: string, key: { hash: string; prefix: string }): Promise<ApiKeyRecord>;
  /** The user behind a key hash, or null when unknown or revoked. */
  findUserByKeyHash(hash: string): Promise<{ userId: string; keyId: string } | null>;
  /** Revokes at once; false when the key does not exist or was already revoked. */
  revokeApiKey(keyId: string): Promise<boolean>;

  /** Stores a memory once per user and content; bumps the user's data version when new. */
  insertMemory(userId: string, memory: NewMemory): Promise<InsertMemoryResult>;
  /** Several memories in one transaction: all are stored or none. */
  insertMemories(userId: string, memories: readonly NewMemory[]): Promise<InsertMemoryResult[]>;
  getMemory(userId: string, memoryId: string): Promise<Memory | null>;
  /** The user's memories among `ids`, in no particular order. */
  getMemories(userId: string, ids: readonly string[]): Promise<Memory[]>;
  /**
   * {@link getMemories} for memories of several users in one round trip: each
   * target's memory if it exists, is live and is that user's.
   */
  getMemoriesOf(targets: readonly MemoryRef[]): Promise<Memory[]>;
  /** Newest saved first, stable under concurrent inserts, filtered (`from`/`to` on the event time). */
  listMemories(userId: string, input: ListMemoriesInput): Promise<MemoryPage>;
  /**
   * The user's memories whose events happened last (`occurredAt`), latest
   * first: active ones, or those passing `filter` (in its state, `active`
   * unless it names one).
   */
  recentMemories(userId: string, limit: number, filter?: RetrievalFilter): Promise<Memory[]>;
  /**
   * Full-text search, several queries in one round trip (results in query
   * order): stemmed English terms, any term matches, ranked by BM25 over the
   * user's active memories. A query with no searchable term finds nothing.
   */
  searchText(queries: readonly TextQuery[]): Promise<TextHit[][]>;
  /** Every unexpired memory of every user, in id order after `afterId`: what a new vector space must hold. */
  pageMemoriesForEmbedding(options: {
    limit: number;
    afterId?: string;
  }): Promise<MemoryForEmbedding[]>;

  /** The registered embedding spaces, oldest first. */
  listVectorSpaces(): Promise<VectorSpaceRecord[]>;
  /** Registers a space unless one with that id exists; returns the stored record either way. */
  registerVectorSpace(space: {
    id: string;
    dimension: number;
    location: string;
    state: 'building' | 'active';
  }): Promise<VectorSpaceRecord>;
  /** Makes the space the one searches read and retires the previous one, atomically. */
  activateVectorSpace(id: string): Promise<VectorSpaceRecord>;
  /**
   * Records that a retired space's table or collection was removed; false
   * when the space is not retired (it serves or is being rebuilt) or was
   * already marked. Registering the space again clears the mark.
   */
  markVectorSpaceDropped(id: string): Promise<boolean>;
  /**
   * Applies an edit; a content change bumps the revision and marks the memory
   * pending. Null when the memory is not the user's. A content that another
   * memory of the user already has is a `conflict`.
   */
  updateMemory(userId: string, memoryId: string, patch: MemoryPatch): Promise<Memory | null>;
  /**
   * Deletes, leaves a tombstone for the index clean-up, and bumps the user's
   * data version; false when there was nothing to delete (an expired memory
   * is deleted too, but counts as nothing).
   */
  deleteMemory(userId: string, memoryId: string): Promise<boolean>;
  /**
   * Deletes up to `limit` of the user's memories that expired at or before
   * `now`, in id order, leaving a tombstone for each (so the indexes forget
   * them even if the caller stops short), and bumps the data version once
   * when any went. Returns their ids: the caller removes their vectors and
   * graph entries, then clears the tombstones.
   */
  purgeExpiredMemories(userId: string, options: { now: Date; limit: number }): Promise<string[]>;

  /**
   * Records that `revision` of the memory is in the indexes: marks it indexed
   * and bumps the data version, once. False when the memory changed since (or
   * that revision was already recorded).
   */
  markIndexed(userId: string, memoryId: string, revision: number): Promise<boolean>;
  /**
   * {@link markIndexed} for several memories of one user in one transaction,
   * bumping the data version once by how many were recorded; returns the ids
   * recorded.
   */
  markIndexedMany(
    userId: string,
    items: readonly { memoryId: string; revision: number }[],
  ): Promise<string[]>;
  /**
   * {@link markIndexedMany} for memories of several users in one transaction,
   * each user's data version bumped by how many of theirs were recorded;
   * returns those recorded.
   */
  markIndexedAcross(items: readonly (MemoryRef & { revision: number })[]): Promise<MemoryRef[]>;
  /** Marks the memory's pending revision as refused by the indexes (bad input). */
  markIndexFailed(userId: string, memoryId: string): Promise<void>;
  /** Removes the tombstone once the indexes forgot the memory. */
  clearTombstone(memoryId: string): Promise<void>;
  /**
   * Work the indexer has not finished and nobody touched for `olderThanMs`,
   * recorded as requested now: a task comes back only once `olderThanMs` has
   * passed since, least recently requested first, so work stuck for good
   * never keeps newer work waiting. A pending memory already requested
   * `maxRequests` times at its revision is marked `failed` instead of
   * returned (default: no cap).
   */
  staleIndexTasks(
    olderThanMs: number,
    limit: number,
    options?: { maxRequests?: number },
  ): Promise<IndexTask[]>;
  /**
   * Puts up to `limit` `failed` memories (the user's, or everyone's without
   * `userId`) back to pending, in id order after `afterId`, and returns them:
   * the caller requests their indexing.
   */
  requeueFailedIndexing(options: {
    userId?: string;
    limit: number;
    afterId?: string;
  }): Promise<IndexTask[]>;

  /** Adds the next version of the user's narrative. */
  saveNarrative(userId: string, narrative: NewNarrative): Promise<Narrative>;
  /**
   * The user's newest narrative (null: none yet). May be answered from
   * memory, so it can lag one saved a moment ago by another process.
   */
  latestNarrative(userId: string): Promise<Narrative | null>;
  /**
   * Ids of users active (saved or queried, see `touchUser`) at or after
   * `since`, in id order: pass the last id of a page as `afterId` for the next.
   */
  activeUsersSince(since: Date, options: { limit: number; afterId?: string }): Promise<string[]>;

  /**
   * A cached plan (the plan cache's L3) by its cache key; null when there is
   * none or it has expired.
   */
  getCachedPlan(key: string): Promise<unknown | null>;
  /**
   * Stores (or replaces) a cached plan for `ttlMs`. `value` must be JSON
   * without NUL characters or unpaired surrogates, which jsonb refuses
   * (`bad_request`). A key that another user's plan already holds is left
   * alone. Unknown user: `not_found`. The user's rows go when the user does.
   */
  putCachedPlan(userId: string, key: string, value: unknown, ttlMs: number): Promise<void>;
  /** Deletes up to `limit` expired cached plans, oldest first; returns how many it deleted. */
  purgeExpiredPlans(limit: number): Promise<number>;

  /** Every user's id, in id order after `afterId` (nightly consolidation walks them all). */
  pageUsers(options: { limit: number; afterId?: string }): Promise<string[]>;
  /** The user's active memories in id order after `afterId`: the pages consolidation works on. */
  pageActiveMemories(
    userId: string,
    options: { limit: number; afterId?: string },
  ): Promise<Memory[]>;
  /**
   * Applies consolidation's changes in one transaction, a group at a time: a
   * group is applied whole, or skipped whole when any of its memories is no
   * longer active at the revision the rules saw (edited, archived or deleted
   * meanwhile). A tag change bumps the revision and marks the memory pending,
   * so it is re-indexed (its ids are in `reindex`). Bumps the user's data
   * version once when anything changed.
   */
  applyConsolidation(
    userId: string,
    groups: readonly (readonly ConsolidationChange[])[],
  ): Promise<ConsolidationOutcome>;

  /**
   * Revises and adds the user's memories in one transaction: every update
   * first (each checked against the revision it was decided on, its old
   * content kept as a {@link MemoryRevision}, its new content marked
   * pending), then the inserts (content the user already has is not stored
   * twice). Bumps the data version once by how many memories changed.
   * Unknown user: `not_found`.
   */
  applyMemoryChanges(userId: string, changes: MemoryChanges): Promise<MemoryChangesResult>;
  /**
   * The contents the user's memory had before its revisions, newest first;
   * null when the memory is not the user's, was deleted or has expired.
   */
  memoryRevisions(userId: string, memoryId: string): Promise<MemoryRevision[] | null>;

  recordSelfCheck(input: { workflowId: string; note: string }): Promise<SelfCheck>;
  getSelfCheck(id: string): Promise<SelfCheck | null>;
}
