import { z } from 'zod';

export const strategies = [
  'relevant_context',
  'deep_understanding',
  'comprehensive_analysis',
] as const;

/** What the model must return when asked to plan; anything else is rejected. */
export const modelPlanSchema = z
  .object({
    strategy: z.enum(strategies),
    queries: z.array(z.string().trim().min(1).max(300)).min(1).max(3),
    include_narrative: z.boolean(),
    save_worthy: z.boolean(),
  })
  .strict();

export type PlanSource = 'classifier' | 'cache' | 'model' | 'heuristic';

/**
 * Why a heuristic plan stands in although a model is configured: the model
 * answered off the schema, did not answer in time, the planning bucket (or
 * the provider) refused for rate, or the call failed otherwise.
 */
export const planFallbacks = ['off_schema', 'timeout', 'rate_limited', 'model_error'] as const;
export type PlanFallback = (typeof planFallbacks)[number];
/** The API's `plan.fallback`: absent unless a heuristic plan stood in for the model. */
export const planFallbackSchema = z.enum(planFallbacks).optional();

/** How the engine will gather context for one message. */
export interface ContextPlan {
  strategy: (typeof strategies)[number];
  /** One to three search queries. */
  queries: string[];
  includeNarrative: boolean;
  /** The message holds something worth remembering. */
  saveWorthy: boolean;
  source: PlanSource;
  /** Set on a heuristic plan used because the configured model could not plan (see {@link PlanFallback}). */
  fallback?: PlanFallback;
}
