import { cacheKey, normalizeMessage } from '../cache/cache-keys.ts';
import { createTokenBucket } from '../concurrency/token-bucket.ts';
import { createContextService, type ContextServiceDeps } from '../context/context-service.ts';
import type { StrategyDeps } from '../context/strategies.ts';
import { createPlanService, type PlanService } from '../planning/plan-service.ts';
import type { LanguageModel } from '../ports/language-model.ts';
import type { EngineCaches } from './engine-caches.ts';
import type { RequestNarrative } from './engine-services.ts';
import type { EngineHooks, EngineSettings } from './engine-types.ts';

/**
 * Search keys carry the user's data version, so a save invalidates the
 * user's cached results. Plan keys do not: the planner is given the message
 * alone, so a plan stays right however the user's memories change (version 0
 * keeps the key's one shape).
 */
const CONTEXT_KEYS: ContextServiceDeps['keys'] = {
  plan: (userId, message) => cacheKey('plan', userId, 0, normalizeMessage(message)),
  search: (userId, version, parts) => cacheKey('search', userId, version, parts),
};

/**
 * Model planning behind the plan cache, with the model's calls rate-limited
 * by a token bucket: the shared one the settings carry, else one of this
 * process's own.
 */
export function createEnginePlans(
  model: LanguageModel | null,
  settings: EngineSettings['model'],
  planCache: EngineCaches['plan'],
): PlanService {
  return createPlanService({
    model,
    timeoutMs: settings.timeoutMs,
    bucket:
      settings.bucket ??
      createTokenBucket({ capacity: settings.burst, refillPerSecond: settings.ratePerSecond }),
    maxTokenWaitMs: settings.maxTokenWaitMs,
    cache: planCache,
  });
}

/** What the context service is wired from, besides the engine's settings and hooks. */
export interface EngineContextParts {
  retrieval: StrategyDeps & Pick<ContextServiceDeps, 'memoriesAsOf'>;
  plans: PlanService;
  caches: Pick<EngineCaches, 'plan' | 'search'>;
  requestNarrative: RequestNarrative;
  remember: ContextServiceDeps['remember'];
}

/** The context service over the engine's retrieval, planning and caches, switched by the settings. */
export function createEngineContext(
  parts: EngineContextParts,
  settings: EngineSettings,
  hooks: Pick<EngineHooks, 'admitHeavy' | 'onStrategyError'>,
) {
  return createContextService({
    ...(hooks.onStrategyError ? { onStrategyError: hooks.onStrategyError } : {}),
    ...parts.retrieval,
    plans: parts.plans,
    planCache: parts.caches.plan,
    searchCache: parts.caches.search,
    keys: CONTEXT_KEYS,
    // Asked when a conversation opens without a fresh narrative: ahead of the refreshes saves ask for.
    requestNarrative: (userId) => parts.requestNarrative(userId, 'high'),
    remember: parts.remember,
    options: {
      classifierEnabled: settings.classifierEnabled,
      parallel: settings.parallelStrategies,
      concurrency: settings.strategyConcurrency,
      strategyTimeoutMs: settings.strategyTimeoutMs,
      ...(hooks.admitHeavy ? { admitHeavy: hooks.admitHeavy } : {}),
    },
  });
}
