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

/** How the engine will gather context for one message. */
export interface ContextPlan {
  strategy: (typeof strategies)[number];
  /** One to three search queries. */
  queries: string[];
  includeNarrative: boolean;
  /** The message holds something worth remembering. */
  saveWorthy: boolean;
  source: PlanSource;
}
