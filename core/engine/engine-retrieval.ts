import { LRUCache } from 'lru-cache';
import type { TieredCache } from '../cache/tiered-cache.ts';
import { entityMatcher, type EntityMatcher } from '../extraction/entity-extractor.ts';
import type { ContextServiceDeps } from '../context/context-types.ts';
import type { Memory, RetrievalFilter } from '../ports/relational-store.ts';
import type { VectorSpace } from '../ports/vector-space.ts';
import { createTextSearcher, createVectorSearcher } from '../retrieval/batched-search.ts';
import { filterKey } from '../retrieval/filters.ts';
import { ENTITY_NAMES_LIMIT } from '../retrieval/hybrid.ts';
import { recentMemories } from '../context/new-conversation.ts';
import type { StrategyDeps } from '../context/strategies.ts';
import { cachingQueryEmbedder } from '../retrieval/query-embeddings.ts';
import type { SearchDeps } from '../retrieval/search-service.ts';
import type { EnginePorts, EngineSettings } from './engine-types.ts';

/** Entity matchers cached for the query path: about 2 bytes a character, so about 16 MB. */
const ENTITY_MATCHERS_MAX_CHARS = 8_000_000;
/** How long the query path's per-version caches (entity matchers, recent rankings) keep an entry. */
const PER_VERSION_TTL_MS = 10 * 60_000;
/** Recent-memory rankings cached for the query path: at most 5 ids each, so about 3 MB. */
const RECENT_RANKINGS_MAX = 20_000;
/** Memories cached per data version for the contexts shown: in characters, so about 32 MB. */
const MEMORY_ROWS_MAX_CHARS = 16_000_000;
/** What a cached memory counts besides its content and metadata (ids, dates, tags, the map's entry). */
const MEMORY_ROW_OVERHEAD_CHARS = 400;

type BatchStats = { queries: number; roundTrips: number; deduplicated: number };

/**
 * The retrieval side shared by search and context: the serving space's
 * query embedder (through the embedding cache) and batched vector searcher,
 * the batched full-text searcher, and the user's entity matcher per data
 * version. `stats` sums what batching saved.
 */
export function createEngineRetrieval(
  ports: Pick<EnginePorts, 'store' | 'graph' | 'spaces'>,
  settings: Pick<EngineSettings, 'vectorBatching'>,
  embeddingCache: TieredCache<number[]>,
) {
  const queryEmbedderFor = perSpace((space) =>
    cachingQueryEmbedder(space.embedder, space.id, embeddingCache),
  );
  // One batching window per space: a batch never mixes spaces.
  const searcherFor = perSpace((space) =>
    createVectorSearcher(space.index, settings.vectorBatching),
  );
  const textSearcher = createTextSearcher(
    (queries) => ports.store.searchText(queries),
    settings.vectorBatching,
  );
  const matchers = entityMatchers(ports.graph);
  const rows = memoryRows(ports.store);
  const recents = recentRankings(ports.store, rows.keep);
  const deps = {
    store: ports.store,
    graph: ports.graph,
    async entities(userId: string, dataVersion: number) {
      const entry = await matchers.fetch(`${userId}\u0000${dataVersion}`, { context: userId });
      return entry!.match;
    },
    async recentIds(
      userId: string,
      limit: number,
      filter: RetrievalFilter | undefined,
      dataVersion: number,
    ) {
      const key = [userId, dataVersion, limit, filter ? filterKey(filter) : ''].join('\u0000');
      return (await recents.fetch(key, { context: { userId, limit, filter, dataVersion } }))!;
    },
    memoriesAsOf: rows.asOf,
    space() {
      const space = ports.spaces.serving();
      return space
        ? { id: space.id, embedder: queryEmbedderFor(space), vectors: searcherFor(space) }
        : null;
    },
    text: textSearcher,
  } satisfies SearchDeps & Pick<StrategyDeps, 'recentIds'> & Pick<ContextServiceDeps, 'memoriesAsOf'>; // prettier-ignore
  return {
    deps,
    stats: () => ({
      vectorQueries: sumStats(searcherFor.all().map((s) => s.stats())),
      textQueries: textSearcher.stats(),
    }),
  };
}

/** One value per vector space, made on first use and kept by the space's id. */
function perSpace<T>(make: (space: VectorSpace) => T) {
  const bySpace = new Map<string, T>();
  const forSpace = (space: VectorSpace): T => {
    let value = bySpace.get(space.id);
    if (value === undefined) {
      value = make(space);
      bySpace.set(space.id, value);
    }
    return value;
  };
  return Object.assign(forSpace, { all: () => [...bySpace.values()] });
}

/**
 * A user's entity names as of a data version (any save or index change bumps
 * it), ready to match: the query path would otherwise read and normalise them
 * all on every message.
 */
function entityMatchers(graph: EnginePorts['graph']) {
  return new LRUCache<string, { match: EntityMatcher }, string>({
    maxSize: ENTITY_MATCHERS_MAX_CHARS,
    sizeCalculation: (value) => value.match.size + 64,
    ttl: PER_VERSION_TTL_MS,
    fetchMethod: async (_key, _stale, { context: userId }) => ({
      match: entityMatcher(await graph.entityNames(userId, { limit: ENTITY_NAMES_LIMIT })),
    }),
  });
}

/**
 * The ids of a user's latest memories as of a data version (any save, edit,
 * delete or index change bumps it), for ranking only: a context reads every
 * memory it shows again, so a deleted one found here is dropped there. Most
 * messages of a conversation meet the same version, and this was one
 * statement of each.
 */
function recentRankings(store: EnginePorts['store'], keep: MemoryRows['keep']) {
  type Asked = {
    userId: string;
    limit: number;
    filter: RetrievalFilter | undefined;
    dataVersion: number;
  };
  return new LRUCache<string, readonly string[], Asked>({
    max: RECENT_RANKINGS_MAX,
    ttl: PER_VERSION_TTL_MS,
    fetchMethod: async (_key, _stale, { context: { userId, limit, filter, dataVersion } }) => {
      const memories = await recentMemories(store, userId, limit, filter);
      // The rows came with the ranking: a new conversation shows them without reading them again.
      keep(userId, dataVersion, memories);
      return memories.map((m) => m.id);
    },
  });
}

/**
 * The memories a context shows, as of a data version (any save, edit, delete
 * or index change bumps it, so a version's memories never change): most
 * messages of a conversation meet the same version and show some of the same
 * memories, and reading them was one statement of each. Expiry needs no
 * version: it is checked on every read. Unknown and deleted ids are not
 * remembered, so they are asked again.
 */
function memoryRows(store: EnginePorts['store']) {
  const rows = new LRUCache<string, Memory>({
    maxSize: MEMORY_ROWS_MAX_CHARS,
    sizeCalculation: (m) =>
      m.content.length + JSON.stringify(m.metadata).length + MEMORY_ROW_OVERHEAD_CHARS,
    ttl: PER_VERSION_TTL_MS,
  });
  const keyOf = (userId: string, dataVersion: number, id: string) =>
    `${userId}\u0000${dataVersion}\u0000${id}`;
  /** Remembers memories read as of `dataVersion` by another step (the recent rankings). */
  const keep = (userId: string, dataVersion: number, memories: readonly Memory[]) => {
    for (const memory of memories) rows.set(keyOf(userId, dataVersion, memory.id), memory);
  };
  const asOf = async (userId: string, ids: readonly string[], dataVersion: number) => {
    const found: Memory[] = [];
    const missing: string[] = [];
    for (const id of new Set(ids)) {
      const memory = rows.get(keyOf(userId, dataVersion, id));
      if (memory) found.push(memory);
      else missing.push(id);
    }
    if (missing.length > 0) {
      const read = await store.getMemories(userId, missing);
      keep(userId, dataVersion, read);
      found.push(...read);
    }
    const now = Date.now();
    return found.filter((m) => m.expiresAt === null || m.expiresAt.getTime() > now);
  };
  return { asOf, keep };
}

type MemoryRows = ReturnType<typeof memoryRows>;

function sumStats(stats: BatchStats[]): BatchStats {
  return stats.reduce(
    (sum, s) => ({
      queries: sum.queries + s.queries,
      roundTrips: sum.roundTrips + s.roundTrips,
      deduplicated: sum.deduplicated + s.deduplicated,
    }),
    { queries: 0, roundTrips: 0, deduplicated: 0 },
  );
}
