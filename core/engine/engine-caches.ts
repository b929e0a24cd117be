import { createByteLruCache, measureEntry } from '../cache/byte-lru-cache.ts';
import {
  createTieredCache,
  relationalPlanTier,
  type RecordTier,
  type TieredCache,
} from '../cache/tiered-cache.ts';
import type { ContextPlan } from '../planning/context-plan.ts';
import type { CacheStore } from '../ports/cache-store.ts';
import type { FusedHit } from '../retrieval/fusion.ts';
import type { EngineHooks, EnginePorts, EngineSettings } from './engine-types.ts';

// Heap bytes per byte of JSON, measured with --expose-gc on Node 20 (heapUsed growth after
// a full GC): plans take about 1.15x their JSON, lists of search hits about 1.7x. The
// byte bounds hold real memory, not JSON length.
const PLAN_HEAP_FACTOR = 1.15;
const SEARCH_HEAP_FACTOR = 1.7;

/** The engine's caches: plans, search hits and query vectors. */
export interface EngineCaches {
  plan: TieredCache<ContextPlan>;
  search: TieredCache<{ hits: FusedHit[] }>;
  embedding: TieredCache<number[]>;
}

interface CacheSpec<V> {
  name: string;
  settings: { enabled: boolean; maxBytes: number; ttlMs: number };
  /** An entry's heap size in bytes, which the L1 bound holds. */
  sizeOf: (value: V, key: string) => number;
  l2: CacheStore | null;
  l3: RecordTier | null;
}

/**
 * Builds the plan, search and embedding caches, each over a byte-bounded L1;
 * plans and searches share the L2 (Redis), plans may keep an L3 in the
 * relational store. Every tier failure goes to `hooks.onCacheError`.
 */
export function createEngineCaches(
  ports: Pick<EnginePorts, 'store' | 'l2'>,
  settings: Pick<EngineSettings, 'planCache' | 'searchCache' | 'embeddingCache'>,
  hooks: Pick<EngineHooks, 'onCacheError'>,
): EngineCaches {
  const tiered = <V extends NonNullable<unknown>>(spec: CacheSpec<V>): TieredCache<V> =>
    createTieredCache<V>({
      name: spec.name,
      enabled: spec.settings.enabled,
      ttlMs: spec.settings.ttlMs,
      l1: createByteLruCache<V>({
        name: spec.name,
        maxBytes: spec.settings.maxBytes,
        ttlMs: spec.settings.ttlMs,
        sizeOf: spec.sizeOf,
      }),
      l2: spec.l2,
      l3: spec.l3,
      onError: (tier, op, error) => hooks.onCacheError?.(spec.name, tier, op, error),
    });

  return {
    plan: tiered<ContextPlan>({
      name: 'plan',
      settings: settings.planCache,
      sizeOf: (value, key) => Math.ceil(measureEntry(value, key) * PLAN_HEAP_FACTOR),
      l2: ports.l2,
      l3: settings.planCache.l3 ? relationalPlanTier(ports.store) : null,
    }),
    search: tiered<{ hits: FusedHit[] }>({
      name: 'search',
      settings: settings.searchCache,
      sizeOf: (value, key) => Math.ceil(measureEntry(value, key) * SEARCH_HEAP_FACTOR),
      l2: ports.l2,
      l3: null,
    }),
    embedding: tiered<number[]>({
      name: 'embedding',
      settings: settings.embeddingCache,
      // A packed double array (8 bytes a component), and the key's UTF-16 characters.
      sizeOf: (value, key) => value.length * 8 + key.length * 2 + 64,
      l2: null,
      l3: null,
    }),
  };
}
