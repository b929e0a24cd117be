import type { WaitingTokenBucket } from '../core/concurrency/token-bucket.ts';
import type { EngineSettings } from '../core/engine.ts';
import type { Config } from '../infra/config.ts';

/**
 * The engine's switches and sizes, from the validated configuration;
 * `planningBucket` is the model planning bucket shared with other API
 * processes (default: the engine's own).
 */
export function engineSettings(
  config: Config,
  shared: { planningBucket?: WaitingTokenBucket | undefined } = {},
): EngineSettings {
  return {
    classifierEnabled: config.CLASSIFIER_ENABLED,
    planCache: {
      enabled: config.PLAN_CACHE_ENABLED,
      maxBytes: config.PLAN_CACHE_MB * 1024 * 1024,
      ttlMs: config.PLAN_CACHE_TTL_S * 1000,
      l3: config.PLAN_CACHE_L3_ENABLED,
    },
    searchCache: {
      enabled: config.SEARCH_CACHE_ENABLED,
      maxBytes: config.SEARCH_CACHE_MB * 1024 * 1024,
      ttlMs: config.SEARCH_CACHE_TTL_S * 1000,
    },
    embeddingCache: {
      enabled: config.QUERY_EMBED_CACHE_ENABLED,
      maxBytes: config.QUERY_EMBED_CACHE_MB * 1024 * 1024,
      ttlMs: config.QUERY_EMBED_CACHE_TTL_S * 1000,
    },
    parallelStrategies: config.PARALLEL_STRATEGIES,
    strategyConcurrency: config.STRATEGY_CONCURRENCY,
    strategyTimeoutMs: config.STRATEGY_TIMEOUT_MS,
    vectorBatching: {
      enabled: config.VECTOR_BATCHING_ENABLED,
      windowMs: config.VECTOR_BATCH_WINDOW_MS,
      maxBatch: config.VECTOR_BATCH_MAX,
    },
    maxMemoryChars: config.MAX_MEMORY_CHARS,
    model: {
      timeoutMs: config.GEMINI_TIMEOUT_MS,
      ratePerSecond: config.MODEL_RATE_PER_S,
      burst: config.MODEL_BURST,
      maxTokenWaitMs: config.MODEL_TOKEN_WAIT_MS,
      ...(shared.planningBucket ? { bucket: shared.planningBucket } : {}),
    },
  };
}
