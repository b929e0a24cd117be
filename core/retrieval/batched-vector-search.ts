import { createHash } from 'node:crypto';
import { createMicroBatcher } from '../batching/micro-batcher.ts';
import type { VectorHit, VectorIndex, VectorQuery } from '../ports/vector-index.ts';

export interface VectorSearcher {
  search(query: VectorQuery): Promise<VectorHit[]>;
  stats(): { queries: number; roundTrips: number; deduplicated: number };
}

const queryKey = (q: VectorQuery) =>
  createHash('sha1')
    .update(`${q.userId}|${q.limit}|${(q.tags ?? []).join(',')}|${q.vector.join(',')}`)
    .digest('base64url');

/**
 * Vector queries arriving within `windowMs` go to the index as one batch
 * request (at most `maxBatch`), and identical queries in flight are answered
 * once. With `enabled` false every query is its own round trip.
 */
export function createVectorSearcher(
  index: VectorIndex,
  options: { enabled: boolean; windowMs: number; maxBatch: number },
): VectorSearcher {
  let direct = 0;
  const batcher = createMicroBatcher<VectorQuery, VectorHit[]>({
    windowMs: options.windowMs,
    maxBatch: options.maxBatch,
    key: queryKey,
    run: (queries) => index.searchBatch(queries),
  });
  return {
    search(query) {
      if (!options.enabled) {
        direct++;
        return index.search(query);
      }
      return batcher.submit(query);
    },
    stats() {
      const s = batcher.stats();
      return {
        queries: s.items + direct,
        roundTrips: s.batches + direct,
        deduplicated: s.deduplicated,
      };
    },
  };
}
