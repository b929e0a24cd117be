import { effectiveFilter } from '../retrieval/filters.ts';
import { cachedRetrieval } from './cached-retrieval.ts';
import {
  choosePlan,
  classifierPlan,
  classify,
  needsNoContext,
  rememberIfWorthy,
} from './choose-plan.ts';
import { resultFor } from './context-result.ts';
import type { ContextRequest, ContextResult, ContextServiceDeps } from './context-types.ts';
import { hydrateContext } from './hydrate.ts';
import { newConversation, newConversationPlan, opensConversation } from './new-conversation.ts';
import { startStopwatch } from './timings.ts';
import { createUserActivity } from './user-activity.ts';

export type {
  ContextMemory,
  ContextRequest,
  ContextResult,
  ContextServiceDeps,
  SearchCache,
} from './context-types.ts';

/**
 * The most memories a context holds at each depth. The default (2) holds as
 * many as a search returns by default (10), so whatever `/v1/search` ranks in
 * its first ten reaches the assistant too; at 8 (before 2026-12-07) the context
 * lost evidence a search had at ranks 9 and 10 (LoCoMo development split,
 * `npm run bench:quality`: recall@10 0.711 at 8 memories, 0.736 at 10).
 */
export const CONTEXT_LIMITS = { 0: 0, 1: 5, 2: 10, 3: 15 } as const;

/** Reads memories as of `dataVersion`, through the engine's cache when it has one. */
function memoriesAt(deps: ContextServiceDeps, dataVersion: number) {
  const { memoriesAsOf } = deps;
  return {
    getMemories: (userId: string, ids: readonly string[]) =>
      memoriesAsOf ? memoriesAsOf(userId, ids, dataVersion) : deps.store.getMemories(userId, ids),
  };
}

/**
 * The call assistants make before they answer. A message is classified
 * (simple ones skip planning), planned with the model when needed (through
 * the plan cache), and its retrieval strategies run concurrently, each with
 * its own deadline; a failed strategy leaves partial context, not an error.
 */
export function createContextService(deps: ContextServiceDeps) {
  const activity = createUserActivity(deps.store);

  return {
    async context(userId: string, request: ContextRequest): Promise<ContextResult> {
      const clock = startStopwatch();
      const filter = effectiveFilter(request.filter, request);
      // Querying counts as activity (narratives are kept fresh for users active lately).
      const dataVersion = await activity.visit(userId);
      const classified = clock.measure('classify', () =>
        classify(request.message, deps.options.classifierEnabled),
      );
      const result = resultFor(classified.reason, clock.timings);
      const limit = CONTEXT_LIMITS[request.depth];

      if (opensConversation(request)) {
        const opening = await clock.measureAsync('retrieve', () =>
          newConversation(deps, userId, dataVersion, limit, filter),
        );
        const plan = newConversationPlan(classified.saveHint);
        rememberIfWorthy(deps, userId, request.message, plan);
        return clock.finish(result(plan, classified.kind, opening));
      }
      if (needsNoContext(request, classified)) {
        return clock.finish(
          result({ ...classifierPlan(request, classified), queries: [] }, 'none'),
        );
      }

      const chosen = await clock.measureAsync('plan', () =>
        choosePlan(deps, userId, request, classified),
      );
      const found = await clock.measureAsync('retrieve', () =>
        cachedRetrieval(deps, userId, chosen.plan, limit, dataVersion, filter),
      );
      const assembled = await clock.measureAsync('assemble', () =>
        hydrateContext(memoriesAt(deps, dataVersion), userId, found, limit, filter),
      );
      rememberIfWorthy(deps, userId, request.message, chosen.plan);
      return clock.finish(
        result(chosen.plan, classified.kind, {
          ...assembled,
          cache: { plan: chosen.cache, search: found.searchCache },
          modelCalls: chosen.modelCalls,
          degraded: found.degraded,
        }),
      );
    },
  };
}

export type ContextService = ReturnType<typeof createContextService>;
