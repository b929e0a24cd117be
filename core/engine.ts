import { LRUCache } from 'lru-cache';
import { createByteLruCache, measureEntry } from './cache/byte-lru-cache.ts';
import { cacheKey, normalizeMessage } from './cache/cache-keys.ts';
import { createTieredCache, relationalPlanTier, type TieredCache } from './cache/tiered-cache.ts';
import { createTokenBucket } from './concurrency/token-bucket.ts';
import { createContextService } from './context/context-service.ts';
import { entityMatcher, type EntityMatcher } from './extraction/entity-extractor.ts';
import type { IndexTarget } from './indexing/indexer.ts';
import {
  createAdminService,
  createMemoryService,
  type MemoryService,
} from './memories/memory-service.ts';
import type { ContextPlan } from './planning/context-plan.ts';
import { createPlanService } from './planning/plan-service.ts';
import type { CacheStore } from './ports/cache-store.ts';
import type { Embedder } from './ports/embedder.ts';
import type { GraphStore } from './ports/graph-store.ts';
import type { IndexingQueue } from './ports/indexing-queue.ts';
import type { LanguageModel } from './ports/language-model.ts';
import type { NarrativePriority, NarrativeQueue } from './ports/narrative-queue.ts';
import type { RelationalStore } from './ports/relational-store.ts';
import type { VectorSpace, VectorSpaces } from './ports/vector-space.ts';
import {
  createTextSearcher,
  createVectorSearcher,
  type VectorSearcher,
} from './retrieval/batched-search.ts';
import { ENTITY_NAMES_LIMIT } from './retrieval/hybrid.ts';
import type { FusedHit } from './retrieval/fusion.ts';
import { cachingQueryEmbedder } from './retrieval/query-embeddings.ts';
import { createSearchService } from './retrieval/search-service.ts';

// Heap bytes per byte of JSON, measured with --expose-gc on Node 20 (heapUsed growth after
// a full GC): plans take about 1.15x their JSON, lists of search hits about 1.7x. The
// byte bounds hold real memory, not JSON length.
const PLAN_HEAP_FACTOR = 1.15;
/** Entity matchers cached for the query path: about 2 bytes a character, so about 16 MB. */
const ENTITY_MATCHERS_MAX_CHARS = 8_000_000;
const ENTITY_MATCHERS_TTL_MS = 10 * 60_000;
const SEARCH_HEAP_FACTOR = 1.7;

/** The ports the engine runs over. */
export interface EnginePorts {
  store: RelationalStore;
  /** The embedding spaces: searches read the serving one, writes go to every kept one. */
  spaces: VectorSpaces;
  graph: GraphStore;
  model: LanguageModel | null;
  indexingQueue: IndexingQueue;
  /** The shared L2 cache (Redis), or null. */
  l2: CacheStore | null;
  /** Where narrative (re)builds are requested; without it none are. */
  narrativeQueue?: NarrativeQueue;
}

/** Every optimisation has a switch, so the naive pipeline stays runnable for comparison. */
export interface EngineSettings {
  classifierEnabled: boolean;
  planCache: { enabled: boolean; maxBytes: number; ttlMs: number; l3: boolean };
  searchCache: { enabled: boolean; maxBytes: number; ttlMs: number };
  /** Query vectors by text, per embedding space (l1 only: recomputing one is cheap). */
  embeddingCache: { enabled: boolean; maxBytes: number; ttlMs: number };
  parallelStrategies: boolean;
  strategyConcurrency: number;
  strategyTimeoutMs: number;
  vectorBatching: { enabled: boolean; windowMs: number; maxBatch: number };
  model: { timeoutMs: number; ratePerSecond: number; burst: number; maxTokenWaitMs: number };
}

export interface EngineHooks {
  onIndexRequestError?: (error: unknown, targets: readonly IndexTarget[]) => void;
  onRememberError?: (error: unknown) => void;
  onCacheError?: (cache: string, tier: string, op: string, error: unknown) => void;
  onNarrativeRequestError?: (error: unknown) => void;
  /**
   * Asked before a complex message is planned with the model (after a plan-cache
   * miss); false refuses it with `overloaded` (the memory monitor sheds load).
   */
  admitHeavy?: () => boolean;
}

/**
 * Builds the engine's services over its ports: memories, search, context
 * (classification, plan cache, parallel strategies, search cache, batched
 * vector queries) and administration. The API and any other edge (MCP) use
 * the same instance.
 */
export function createEngine(
  ports: EnginePorts,
  settings: EngineSettings,
  hooks: EngineHooks = {},
) {
  const requestNarratives = (userId: string, priority: NarrativePriority) => {
    ports.narrativeQueue
      ?.enqueue([{ userId, priority }])
      .catch((error: unknown) => hooks.onNarrativeRequestError?.(error));
  };
  const memoryService = createMemoryService({
    store: ports.store,
    indexingQueue: ports.indexingQueue,
    ...(hooks.onIndexRequestError ? { onIndexRequestError: hooks.onIndexRequestError } : {}),
  });
  // A save refreshes the user's portrait at low priority (coalesced by the queue).
  const memories: MemoryService = {
    ...memoryService,
    async save(userId, list) {
      const results = await memoryService.save(userId, list);
      if (results.some((r) => r.created)) requestNarratives(userId, 'low');
      return results;
    },
  };
  const onError = (cache: string) => (tier: string, op: string, error: unknown) =>
    hooks.onCacheError?.(cache, tier, op, error);

  const planCache: TieredCache<ContextPlan> = createTieredCache<ContextPlan>({
    name: 'plan',
    enabled: settings.planCache.enabled,
    ttlMs: settings.planCache.ttlMs,
    l1: createByteLruCache<ContextPlan>({
      name: 'plan',
      maxBytes: settings.planCache.maxBytes,
      ttlMs: settings.planCache.ttlMs,
      sizeOf: (value, key) => Math.ceil(measureEntry(value, key) * PLAN_HEAP_FACTOR),
    }),
    l2: ports.l2,
    l3: settings.planCache.l3 ? relationalPlanTier(ports.store) : null,
    onError: onError('plan'),
  });
  const searchCache: TieredCache<{ hits: FusedHit[] }> = createTieredCache<{ hits: FusedHit[] }>({
    name: 'search',
    enabled: settings.searchCache.enabled,
    ttlMs: settings.searchCache.ttlMs,
    l1: createByteLruCache<{ hits: FusedHit[] }>({
      name: 'search',
      maxBytes: settings.searchCache.maxBytes,
      ttlMs: settings.searchCache.ttlMs,
      sizeOf: (value, key) => Math.ceil(measureEntry(value, key) * SEARCH_HEAP_FACTOR),
    }),
    l2: ports.l2,
    l3: null,
    onError: onError('search'),
  });

  const embeddingCache: TieredCache<number[]> = createTieredCache<number[]>({
    name: 'embedding',
    enabled: settings.embeddingCache.enabled,
    ttlMs: settings.embeddingCache.ttlMs,
    l1: createByteLruCache<number[]>({
      name: 'embedding',
      maxBytes: settings.embeddingCache.maxBytes,
      ttlMs: settings.embeddingCache.ttlMs,
      // A packed double array (8 bytes a component), and the key's UTF-16 characters.
      sizeOf: (value, key) => value.length * 8 + key.length * 2 + 64,
    }),
    l2: null,
    l3: null,
    onError: onError('embedding'),
  });
  const queryEmbedders = new Map<string, Embedder>();
  const queryEmbedderFor = (space: VectorSpace) => {
    let embedder = queryEmbedders.get(space.id);
    if (!embedder) {
      embedder = cachingQueryEmbedder(space.embedder, space.id, embeddingCache);
      queryEmbedders.set(space.id, embedder);
    }
    return embedder;
  };

  // One batching window per space: a batch never mixes spaces.
  const vectorSearchers = new Map<string, VectorSearcher>();
  const searcherFor = (space: VectorSpace) => {
    let searcher = vectorSearchers.get(space.id);
    if (!searcher) {
      searcher = createVectorSearcher(space.index, settings.vectorBatching);
      vectorSearchers.set(space.id, searcher);
    }
    return searcher;
  };
  const textSearcher = createTextSearcher(
    (queries) => ports.store.searchText(queries),
    settings.vectorBatching,
  );
  // A user's entity names as of a data version (any save or index change bumps it), ready to
  // match: the query path would otherwise read and normalise them all on every message.
  const matchers = new LRUCache<string, { match: EntityMatcher }, string>({
    maxSize: ENTITY_MATCHERS_MAX_CHARS,
    sizeCalculation: (value) => value.match.size + 64,
    ttl: ENTITY_MATCHERS_TTL_MS,
    fetchMethod: async (_key, _stale, { context: userId }) => ({
      match: entityMatcher(await ports.graph.entityNames(userId, { limit: ENTITY_NAMES_LIMIT })),
    }),
  });
  const retrieval = {
    store: ports.store,
    graph: ports.graph,
    async entities(userId: string, dataVersion: number) {
      const entry = await matchers.fetch(`${userId}\u0000${dataVersion}`, { context: userId });
      return entry!.match;
    },
    space() {
      const space = ports.spaces.serving();
      return space
        ? { id: space.id, embedder: queryEmbedderFor(space), vectors: searcherFor(space) }
        : null;
    },
    text: textSearcher,
  };
  const plans = createPlanService({
    model: ports.model,
    timeoutMs: settings.model.timeoutMs,
    bucket: createTokenBucket({
      capacity: settings.model.burst,
      refillPerSecond: settings.model.ratePerSecond,
    }),
    maxTokenWaitMs: settings.model.maxTokenWaitMs,
    cache: planCache,
  });
  const context = createContextService({
    ...retrieval,
    plans,
    planCache,
    searchCache,
    keys: {
      plan: (userId, version, message) =>
        cacheKey('plan', userId, version, normalizeMessage(message)),
      search: (userId, version, parts) => cacheKey('search', userId, version, parts),
    },
    requestNarrative: (userId) => requestNarratives(userId, 'high'),
    async remember(userId, content) {
      try {
        await memories.save(userId, [{ content, tags: ['auto-saved'] }]);
      } catch (error) {
        hooks.onRememberError?.(error);
      }
    },
    options: {
      classifierEnabled: settings.classifierEnabled,
      parallel: settings.parallelStrategies,
      concurrency: settings.strategyConcurrency,
      strategyTimeoutMs: settings.strategyTimeoutMs,
      ...(hooks.admitHeavy ? { admitHeavy: hooks.admitHeavy } : {}),
    },
  });

  return {
    memories,
    search: createSearchService(retrieval),
    context,
    admin: createAdminService(ports.store),
    narratives: {
      /** The user's current narrative and whether memories changed since; null before the first. */
      async current(userId: string) {
        const [narrative, user] = await Promise.all([
          ports.store.latestNarrative(userId),
          ports.store.getUser(userId),
        ]);
        if (!narrative) return null;
        const stale = narrative.dataVersion < (user?.dataVersion ?? 0);
        if (stale) requestNarratives(userId, 'normal');
        return { narrative, stale };
      },
    },
    caches: { plan: planCache, search: searchCache, embedding: embeddingCache },
    stats: () => ({
      vectorQueries: sumStats([...vectorSearchers.values()].map((s) => s.stats())),
      textQueries: textSearcher.stats(),
      sharedPlanCalls: plans.sharedCalls(),
    }),
  };
}

export type Engine = ReturnType<typeof createEngine>;

function sumStats(stats: { queries: number; roundTrips: number; deduplicated: number }[]) {
  return stats.reduce(
    (sum, s) => ({
      queries: sum.queries + s.queries,
      roundTrips: sum.roundTrips + s.roundTrips,
      deduplicated: sum.deduplicated + s.deduplicated,
    }),
    { queries: 0, roundTrips: 0, deduplicated: 0 },
  );
}
