import type { MemoryState } from './memory-records.ts';
import type { RetrievalFilter } from './retrieval-filter.ts';

/**
 * One memory's vector, with the payload filters read. The payload is a copy
 * of the memory's fields as they were when it was indexed; a field left out
 * reads as no metadata, no event time (outside every `from`/`to` range) and
 * `active`.
 */
export interface VectorRecord {
  /** The memory id (a UUID). */
  id: string;
  userId: string;
  vector: number[];
  tags: string[];
  /** The memory's metadata: its top-level scalar values are what filters match. */
  metadata?: Readonly<Record<string, unknown>>;
  /** When the memory's event happened. */
  occurredAt?: Date;
  state?: MemoryState;
}

export interface VectorQuery {
  userId: string;
  vector: number[];
  limit: number;
  /** Shorthand for `filter.tagsAny`: only memories carrying at least one of these tags. */
  tags?: string[];
  /** Only memories whose payload passes it (giving `tags` and `filter.tagsAny` is a `bad_request`). */
  filter?: RetrievalFilter;
}

export interface VectorHit {
  id: string;
  /** Cosine similarity, higher is closer (1 = same direction). */
  score: number;
}

/**
 * Port for the vector index (pgvector or Qdrant). Every read and delete is
 * scoped by user id, so no query reaches another user's vectors. Upserts are
 * idempotent by id. Adapters throw `AppError('dependency_unavailable')` when
 * the index cannot be reached, so indexing retries instead of failing.
 *
 * A query's filter is applied to the stored payload inside the index, before
 * the `limit` nearest are taken, so a selective filter still fills the limit.
 * The payload is as fresh as the memory's last indexing: callers check hits
 * against the memories themselves.
 */
export interface VectorIndex {
  /** `pgvector` or `qdrant`. */
  readonly kind: string;
  readonly dimension: number;
  upsert(records: readonly VectorRecord[]): Promise<void>;
  delete(userId: string, ids: readonly string[]): Promise<void>;
  search(query: VectorQuery): Promise<VectorHit[]>;
  /** Several queries in one round trip; results in query order. */
  searchBatch(queries: readonly VectorQuery[]): Promise<VectorHit[][]>;
  /** Ids stored for a user, in id order, after `afterId` (for orphan clean-up). */
  listIds(userId: string, options: { limit: number; afterId?: string }): Promise<string[]>;
  /**
   * The stored vectors of the user's memories among `ids` (unknown ids and
   * other users' are left out), so a memory can be compared with its
   * neighbours without embedding it again.
   */
  getVectors(userId: string, ids: readonly string[]): Promise<Map<string, number[]>>;
  count(userId?: string): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
