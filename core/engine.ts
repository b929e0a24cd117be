import { createByteLruCache, measureEntry } from './cache/byte-lru-cache.ts';
import { cacheKey, normalizeMessage } from './cache/cache-keys.ts';
import { createTieredCache, relationalPlanTier, type TieredCache } from './cache/tiered-cache.ts';
import { createTokenBucket } from './concurrency/token-bucket.ts';
import { createContextService } from './context/context-service.ts';
import type { IndexTarget } from './indexing/indexer.ts';
import { createAdminService, createMemoryService } from './memories/memory-service.ts';
import type { ContextPlan } from './planning/context-plan.ts';
import { createPlanService } from './planning/plan-service.ts';
import type { CacheStore } from './ports/cache-store.ts';
import type { Embedder } from './ports/embedder.ts';
import type { GraphStore } from './ports/graph-store.ts';
import type { IndexingQueue } from './ports/indexing-queue.ts';
import type { LanguageModel } from './ports/language-model.ts';
import type { RelationalStore } from './ports/relational-store.ts';
import type { VectorIndex } from './ports/vector-index.ts';
import { createVectorSearcher } from './retrieval/batched-vector-search.ts';
import type { FusedHit } from './retrieval/fusion.ts';
import { createSearchService } from './retrieval/search-service.ts';

// Heap bytes per byte of JSON, measured with --expose-gc on Node 20 (heapUsed growth after
// a full GC): plans take about 1.15x their JSON, lists of search hits about 1.7x. The
// byte bounds hold real memory, not JSON length.
const PLAN_HEAP_FACTOR = 1.15;
const SEARCH_HEAP_FACTOR = 1.7;

/** The ports the engine runs over. */
export interface EnginePorts {
  store: RelationalStore;
  vectors: VectorIndex;
  graph: GraphStore;
  embedder: Embedder;
  model: LanguageModel | null;
  indexingQueue: IndexingQueue;
  /** The shared L2 cache (Redis), or null. */
  l2: CacheStore | null;
}

/** Every optimisation has a switch, so the naive pipeline stays runnable for comparison. */
export interface EngineSettings {
  classifierEnabled: boolean;
  planCache: { enabled: boolean; maxBytes: number; ttlMs: number; l3: boolean };
  searchCache: { enabled: boolean; maxBytes: number; ttlMs: number };
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
  const memories = createMemoryService({
    store: ports.store,
    indexingQueue: ports.indexingQueue,
    ...(hooks.onIndexRequestError ? { onIndexRequestError: hooks.onIndexRequestError } : {}),
  });
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

  const vectorSearcher = createVectorSearcher(ports.vectors, settings.vectorBatching);
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
    store: ports.store,
    graph: ports.graph,
    embedder: ports.embedder,
    vectors: vectorSearcher,
    plans,
    searchCache,
    keys: {
      plan: (userId, version, message) =>
        cacheKey('plan', userId, version, normalizeMessage(message)),
      search: (userId, version, parts) => cacheKey('search', userId, version, parts),
    },
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
    },
  });

  return {
    memories,
    search: createSearchService(ports),
    context,
    admin: createAdminService(ports.store),
    caches: { plan: planCache, search: searchCache },
    stats: () => ({
      vectorQueries: vectorSearcher.stats(),
      sharedPlanCalls: plans.sharedCalls(),
    }),
  };
}

export type Engine = ReturnType<typeof createEngine>;
