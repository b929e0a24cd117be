import type { WaitingTokenBucket } from '../concurrency/token-bucket.ts';
import { createSingleFlight } from '../concurrency/single-flight.ts';
import type { LanguageModel } from '../ports/language-model.ts';
import type { ContextPlan } from './context-plan.ts';
import { heuristicPlan } from './heuristic-planner.ts';
import { createPlanner, type PlanOutcome } from './planner.ts';

export type CacheTier = 'l1' | 'l2' | 'l3' | 'miss' | 'off';

/** The cache the plan service reads through; the tiered cache implements it. */
export interface PlanCache {
  get(key: string): Promise<{ value: ContextPlan | null; tier: CacheTier }>;
  set(key: string, value: ContextPlan): unknown;
}

export interface PlanServiceResult extends PlanOutcome {
  cache: CacheTier;
}

/**
 * AI planning with its guards: a cached plan when there is one (keyed with
 * the user's data version), one model call for identical concurrent
 * requests, a token bucket on model calls, and the heuristic plan whenever
 * the model is absent, rate-limited, slow, failing or off-schema.
 */
export function createPlanService(options: {
  model: LanguageModel | null;
  timeoutMs: number;
  /** Bounds model calls: this process's bucket, or one shared by every API process. */
  bucket: WaitingTokenBucket;
  /** How long a request may wait for a model token before planning heuristically. */
  maxTokenWaitMs: number;
  cache: PlanCache;
}) {
  const planner = createPlanner({ model: options.model, timeoutMs: options.timeoutMs });
  const flights = createSingleFlight<PlanOutcome>();

  const planWithModel = async (message: string): Promise<PlanOutcome> => {
    if (!options.model) return { plan: heuristicPlan(message), modelCalls: 0 };
    if (!(await options.bucket.take(options.maxTokenWaitMs))) {
      return {
        plan: { ...heuristicPlan(message), fallback: 'rate_limited' },
        modelCalls: 0,
        fallbackReason: 'rate_limited',
      };
    }
    return planner.plan(message);
  };

  return {
    async plan(cacheKey: string, message: string): Promise<PlanServiceResult> {
      const cached = await options.cache.get(cacheKey);
      if (cached.value) {
        return { plan: { ...cached.value, source: 'cache' }, modelCalls: 0, cache: cached.tier };
      }
      const flight = flights.run(cacheKey, () => planWithModel(message));
      const outcome = await flight.promise;
      // Only a model's plan is worth keeping: a heuristic one is cheaper to redo than to store.
      if (!flight.shared && outcome.plan.source === 'model')
        options.cache.set(cacheKey, outcome.plan);
      return { ...outcome, modelCalls: flight.shared ? 0 : outcome.modelCalls, cache: cached.tier };
    },
    sharedCalls: () => flights.sharedCount(),
  };
}

export type PlanService = ReturnType<typeof createPlanService>;
