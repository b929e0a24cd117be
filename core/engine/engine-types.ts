import type { WaitingTokenBucket } from '../concurrency/token-bucket.ts';
import type { IndexTarget } from '../indexing/indexer.ts';
import type { CacheStore } from '../ports/cache-store.ts';
import type { GraphStore } from '../ports/graph-store.ts';
import type { IndexingQueue } from '../ports/indexing-queue.ts';
import type { LanguageModel } from '../ports/language-model.ts';
import type { NarrativeQueue } from '../ports/narrative-queue.ts';
import type { RelationalStore } from '../ports/relational-store.ts';
import type { VectorSpaces } from '../ports/vector-space.ts';

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
  model: {
    timeoutMs: number;
    ratePerSecond: number;
    burst: number;
    maxTokenWaitMs: number;
    /**
     * The planning bucket when several processes share one (over IPC with
     * their parent, or in Redis); default: this process's own, sized by
     * `ratePerSecond` and `burst`.
     */
    bucket?: WaitingTokenBucket;
  };
  /** Longest message the context path saves by itself (`MAX_MEMORY_CHARS`); longer ones are not auto-saved. */
  maxMemoryChars?: number;
}

export interface EngineHooks {
  onIndexRequestError?: (error: unknown, targets: readonly IndexTarget[]) => void;
  onRememberError?: (error: unknown) => void;
  onCacheError?: (cache: string, tier: string, op: string, error: unknown) => void;
  onNarrativeRequestError?: (error: unknown) => void;
  /** A context strategy failed or timed out; clients see only its name and `reason`. */
  onStrategyError?: (strategy: string, reason: 'timeout' | 'unavailable', error: unknown) => void;
  /** A search retriever failed; the search answered from the others (`degraded`). */
  onSearchRetrieverError?: (retriever: string, error: unknown) => void;
  /**
   * Asked before a complex message is planned with the model (after a plan-cache
   * miss); false refuses it with `overloaded` (the memory monitor sheds load).
   */
  admitHeavy?: () => boolean;
}
