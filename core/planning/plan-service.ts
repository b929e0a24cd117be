import type { WaitingTokenBucket } from '../concurrency/token-bucket.ts';
import { createSingleFlight } from '../concurrency/single-flight.ts';
import type { LanguageModel } from '../ports/language-model.ts';
import type { ContextPlan } from './context-plan.ts';
import { heuristicPlan } from './heuristic-planner.ts';
import { BACKFILL_REASONS, createPlanBackfill, type PlanBackfillOptions } from './plan-backfill.ts';
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
 * AI planning with its guards: a cached plan when there is one, one model
 * call for identical concurrent requests, a token bucket on model calls, and
 * the heuristic plan whenever the model is absent, rate-limited, slow,
 * failing or off-schema. Heuristic plans are never cached; a message that
 * fell back because the model was busy or slow is planned by the model in
 * the background when a token is free (see {@link createPlanBackfill}), so its
 * repeat finds a model plan in the cache.
 */
export function createPlanService(options: {
  model: LanguageModel | null;
  timeoutMs: number;
  /** Bounds model calls: this process's bucket, or one shared by every API process. */
  bucket: WaitingTokenBucket;
  /** How long a request may wait for a model token before planning heuristically. */
  maxTokenWaitMs: number;
  cache: PlanCache;
  /** The background planning of busy or slow fallbacks; `false` turns it off. */
  backfill?: PlanBackfillOptions | false;
}) {
  const planner = createPlanner({ model: options.model, timeoutMs: options.timeoutMs });
  const flights = createSingleFlight<PlanOutcome>();
  const backfill =
    options.model && options.backfill !== false
      ? createPlanBackfill({
          bucket: options.bucket,
          cache: options.cache,
          plan: (key, message) => flights.run(key, () => planner.plan(message)),
          ...(options.backfill ? { options: options.backfill } : {}),
        })
      : null;

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
      const why = outcome.plan.fallback;
      // With the cache off a background plan would have nowhere to go.
      if (!flight.shared && why && BACKFILL_REASONS.includes(why) && cached.tier !== 'off')
        backfill?.enqueue(cacheKey, message);
      return { ...outcome, modelCalls: flight.shared ? 0 : outcome.modelCalls, cache: cached.tier };
    },
    sharedCalls: () => flights.sharedCount(),
    /** The background planner's counters (null without a model or when turned off). */
    backfillStats: () => backfill?.stats() ?? null,
    /** Resolves once the background planner has nothing waiting or in flight. */
    backfillSettled: () => backfill?.settled() ?? Promise.resolve(),
    /** Stops background planning (what waits is dropped). */
    close: () => backfill?.close(),
  };
}

export type PlanService = ReturnType<typeof createPlanService>;
