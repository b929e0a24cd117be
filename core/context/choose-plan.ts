import { classifyMessage, type Classification } from '../classification/query-classifier.ts';
import { AppError } from '../errors.ts';
import type { ContextPlan } from '../planning/context-plan.ts';
import { searchQueries } from '../planning/heuristic-planner.ts';
import type { CacheTier, PlanCache } from '../planning/plan-service.ts';
import type { ContextRequest, ContextServiceDeps } from './context-types.ts';

/** How a message is served: the classifier's verdict, or `classifier_off` (every message complex). */
export type MessageClass =
  | Classification
  | { kind: 'complex'; reason: 'classifier_off'; needsContext: true; saveHint: false };

/** A plan and what choosing it cost. */
export interface ChosenPlan {
  plan: ContextPlan;
  cache: CacheTier;
  modelCalls: number;
}

export type PlanChoiceDeps = Pick<ContextServiceDeps, 'plans' | 'planCache' | 'keys' | 'options'>;

/** Classifies a message from its text alone; with the classifier off, every message is complex. */
export function classify(message: string, classifierEnabled: boolean): MessageClass {
  return classifierEnabled
    ? classifyMessage(message)
    : { kind: 'complex', reason: 'classifier_off', needsContext: true, saveHint: false };
}

/** Depth 0, or a simple message no memory can help with (greetings, thanks, small talk). */
export function needsNoContext(request: ContextRequest, classified: MessageClass): boolean {
  return request.depth === 0 || (classified.kind === 'simple' && !classified.needsContext);
}

/** The classifier's plan: search with the message itself, no model call. */
export function classifierPlan(request: ContextRequest, classified: MessageClass): ContextPlan {
  return {
    strategy: 'relevant_context',
    queries: searchQueries(request.message),
    includeNarrative: request.isNewConversation,
    saveWorthy: classified.saveHint,
    source: 'classifier',
  };
}

/**
 * The plan for a message that needs context. Fast depths (1, and 2 for a
 * simple message) take the classifier's plan; the others go through the plan
 * service (plan cache, then the model, then the heuristic), or only the plan
 * cache when heavy work is refused. Depth 3 always reads the narrative.
 */
export async function choosePlan(
  deps: PlanChoiceDeps,
  userId: string,
  request: ContextRequest,
  classified: MessageClass,
): Promise<ChosenPlan> {
  const fast = request.depth === 1 || (request.depth === 2 && classified.kind === 'simple');
  if (fast) return { plan: classifierPlan(request, classified), cache: 'off', modelCalls: 0 };
  const planKey = deps.keys.plan(userId, request.message);
  const { admitHeavy } = deps.options;
  const planned =
    admitHeavy && !admitHeavy()
      ? await cachedPlanOnly(deps.planCache, planKey)
      : await deps.plans.plan(planKey, request.message);
  const plan = request.depth === 3 ? { ...planned.plan, includeNarrative: true } : planned.plan;
  return { plan, cache: planned.cache, modelCalls: planned.modelCalls };
}

async function cachedPlanOnly(planCache: PlanCache | undefined, planKey: string) {
  const cached = planCache ? await planCache.get(planKey) : null;
  if (!cached?.value) {
    throw new AppError(
      'overloaded',
      'the server is short of memory and refuses new complex queries for now; ' +
        'simple and cached queries are still served, retry later',
    );
  }
  return {
    plan: { ...cached.value, source: 'cache' as const },
    modelCalls: 0,
    cache: cached.tier,
  };
}

/**
 * Saves the message when its plan found it worth remembering. Saving must
 * not slow the answer down, so it is not awaited; `remember` reports its own
 * failures.
 */
export function rememberIfWorthy(
  deps: Pick<ContextServiceDeps, 'remember'>,
  userId: string,
  message: string,
  plan: ContextPlan,
): void {
  if (plan.saveWorthy) void deps.remember(userId, message);
}
