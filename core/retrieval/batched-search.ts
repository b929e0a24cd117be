import { createHash } from 'node:crypto';
import { createMicroBatcher, type MicroBatcher } from '../batching/micro-batcher.ts';
import { currentPriority, withPriority, type WorkPriority } from '../concurrency/work-priority.ts';
import type { TextHit, TextQuery } from '../ports/relational-store.ts';
import type { RetrievalFilter } from '../ports/retrieval-filter.ts';
import type { VectorHit, VectorIndex, VectorQuery } from '../ports/vector-index.ts';
import { filterKey } from './filters.ts';

export interface BatchingOptions {
  enabled: boolean;
  /** How long a query waits for company; 0 batches by load ({@link SEARCH_IN_FLIGHT}). */
  windowMs: number;
  maxBatch: number;
}

/**
 * With no window, how many batch requests of one searcher run at once: a
 * query goes at once while fewer run, and gathers with others while that
 * many do, so an idle store adds no wait and a busy one gets larger batches.
 */
export const SEARCH_IN_FLIGHT = 2;

/** One retriever behind the batching window, with counts of what batching saved. */
export interface BatchedSearcher<Q, H> {
  search(query: Q): Promise<H[]>;
  stats(): { queries: number; roundTrips: number; deduplicated: number };
}

export type VectorSearcher = BatchedSearcher<VectorQuery, VectorHit>;
export type TextSearcher = BatchedSearcher<TextQuery, TextHit>;

const digest = (text: string) => createHash('sha1').update(text).digest('base64url');

/**
 * The batch key of a query's parts: JSON keeps every string whole (`["a,b"]`
 * and `["a","b"]` differ), tags are sorted because a tag filter is a set, and
 * the filter is in its canonical form, so queries differing only in their
 * filters are never answered as one.
 */
export function queryKey(
  userId: string,
  limit: number,
  tags: readonly string[] | undefined,
  what: unknown,
  filter?: RetrievalFilter,
) {
  const filtered = filter ? filterKey(filter) : null;
  return digest(JSON.stringify([userId, limit, [...(tags ?? [])].sort(), what, filtered]));
}

/**
 * Queries arriving within `windowMs` (or, with none, while the searcher's
 * batch requests are all running) go to the backend as one batch request (at
 * most `maxBatch`), and identical queries in flight are answered once.
 * A batch request that fails is retried query by query, so a query the
 * backend rejects fails alone and every other query of the batch is answered
 * (those retries count as round trips). With `enabled` false every query is
 * its own round trip. Queries of each priority ({@link currentPriority}) are
 * batched apart and run at their priority: a query never waits in a batch that
 * background work started, on a connection that yields to queries.
 */
function createBatchedSearcher<Q, H>(
  options: BatchingOptions,
  backend: {
    key(query: Q): string;
    batch(queries: Q[]): Promise<H[][]>;
    one(query: Q): Promise<H[]>;
  },
): BatchedSearcher<Q, H> {
  let direct = 0;
  let retried = 0;
  const batcherAt = (priority: WorkPriority) =>
    createMicroBatcher<Q, H[]>({
      windowMs: options.windowMs,
      ...(options.windowMs === 0 ? { maxInFlight: SEARCH_IN_FLIGHT } : {}),
      maxBatch: options.maxBatch,
      key: backend.key,
      run: (queries) => withPriority(priority, () => backend.batch(queries)),
      runOne: (query) => {
        retried++;
        return withPriority(priority, () => backend.one(query));
      },
    });
  const batchers = new Map<WorkPriority, MicroBatcher<Q, H[]>>();
  const batcher = (priority: WorkPriority) => {
    let found = batchers.get(priority);
    if (!found) batchers.set(priority, (found = batcherAt(priority)));
    return found;
  };
  return {
    async search(query) {
      if (options.enabled) return batcher(currentPriority()).submit(query);
      direct++;
      return backend.one(query);
    },
    stats() {
      const all = [...batchers.values()].map((b) => b.stats());
      const sum = (pick: (s: (typeof all)[number]) => number) =>
        all.reduce((n, s) => n + pick(s), 0);
      return {
        queries: sum((s) => s.items) + direct,
        roundTrips: sum((s) => s.batches) + retried + direct,
        deduplicated: sum((s) => s.deduplicated),
      };
    },
  };
}

/**
 * A vector's part of its query's key: the digest of its bytes, which equal
 * vectors share. Writing 384 numbers as JSON cost the API's event loop more
 * than any other step of batching.
 */
export function vectorDigest(vector: readonly number[]): string {
  return createHash('sha1').update(new Float64Array(vector)).digest('base64url');
}

/** Vector queries through the batching window (one `searchBatch` per batch). */
export function createVectorSearcher(index: VectorIndex, options: BatchingOptions): VectorSearcher {
  return createBatchedSearcher(options, {
    key: (q) => queryKey(q.userId, q.limit, q.tags, vectorDigest(q.vector), q.filter),
    batch: (queries) => index.searchBatch(queries),
    one: (query) => index.search(query),
  });
}

/** Full-text queries through the batching window (one SQL statement per batch). */
export function createTextSearcher(
  searchText: (queries: readonly TextQuery[]) => Promise<TextHit[][]>,
  options: BatchingOptions,
): TextSearcher {
  return createBatchedSearcher(options, {
    key: (q) => queryKey(q.userId, q.limit, q.tags, q.query, q.filter),
    batch: (queries) => searchText(queries),
    one: async (query) => (await searchText([query]))[0] ?? [],
  });
}
