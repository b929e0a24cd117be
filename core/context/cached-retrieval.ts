import { settleAll, withTimeout } from '../concurrency/limits.ts';
import type { ContextPlan } from '../planning/context-plan.ts';
import type { CacheTier } from '../planning/plan-service.ts';
import type { Narrative, RetrievalFilter } from '../ports/relational-store.ts';
import { DEFAULT_STATE, filterKey } from '../retrieval/filters.ts';
import { fuseRankings, type FusedHit, type RankedList } from '../retrieval/fusion.ts';
import type { ContextServiceDeps } from './context-types.ts';
import { planStrategies, type StrategyDeps } from './strategies.ts';

/** Why a strategy is missing from a context, as callers are told it. */
export type StrategyFailure = 'timeout' | 'unavailable';

export type RetrievalStepDeps = StrategyDeps &
  Pick<ContextServiceDeps, 'searchCache' | 'keys' | 'options'> & {
    /** Told what a strategy failed with; callers only see its name and a generic reason. */
    onStrategyError?: (strategy: string, reason: StrategyFailure, error: unknown) => void;
  };

/** A strategy's own failure, told apart from its deadline passing. */
class Failed {
  constructor(readonly error: unknown) {}
}

/** What a plan found: fused hits, the narrative when asked for, and what went missing. */
export interface Retrieved {
  hits: FusedHit[];
  narrative: Narrative | null;
  /** `name: timeout` or `name: unavailable` for each strategy that timed out or failed. */
  degraded: string[];
  /** Which tier of the search cache answered. */
  searchCache: CacheTier;
}

/**
 * Runs a plan's retrieval through the search cache (keyed with the user's
 * data version and the filter). On a miss the strategies run concurrently,
 * each with its own deadline; only a complete result is cached.
 */
export async function cachedRetrieval(
  deps: RetrievalStepDeps,
  userId: string,
  plan: ContextPlan,
  limit: number,
  dataVersion: number,
  filter: RetrievalFilter = { state: DEFAULT_STATE },
): Promise<Retrieved> {
  const searchKey = deps.keys.search(userId, dataVersion, [
    plan.strategy,
    plan.queries,
    plan.includeNarrative,
    limit,
    filterKey(filter),
  ]);
  const cached = await deps.searchCache.get(searchKey);
  const hits = cached.value?.hits;
  if (!hits) {
    const retrieved = await retrieve(deps, userId, plan, limit, dataVersion, filter);
    // Partial results are not cached: the next request may get the full picture.
    if (retrieved.degraded.length === 0) deps.searchCache.set(searchKey, { hits: retrieved.hits });
    return { ...retrieved, searchCache: cached.tier };
  }
  // The narrative is not part of the cached hits: it is read fresh when the plan wants it.
  const narrative = plan.includeNarrative ? await deps.store.latestNarrative(userId) : null;
  return { hits, narrative, degraded: [], searchCache: cached.tier };
}

async function retrieve(
  deps: RetrievalStepDeps,
  userId: string,
  plan: ContextPlan,
  limit: number,
  dataVersion: number,
  filter: RetrievalFilter,
) {
  const { options } = deps;
  const strategies = planStrategies(deps, userId, plan, limit, dataVersion, filter);
  const settled = await settleAll(
    strategies.map((s) => () => {
      const run = s.run().catch((error: unknown) => Promise.reject(new Failed(error)));
      return withTimeout(run, options.strategyTimeoutMs, s.name);
    }),
    options.parallel ? options.concurrency : 1,
  );
  const lists: RankedList[] = [];
  const degraded: string[] = [];
  let narrative: Narrative | null = null;
  settled.forEach((outcome, i) => {
    if (outcome.status === 'fulfilled') {
      lists.push(...outcome.value.lists);
      narrative = outcome.value.narrative ?? narrative;
    } else {
      // The error's text may name hosts, queries or internals: it goes to the hook only.
      const failed = outcome.reason instanceof Failed;
      const reason: StrategyFailure = failed ? 'unavailable' : 'timeout';
      const name = strategies[i]!.name;
      deps.onStrategyError?.(name, reason, failed ? outcome.reason.error : outcome.reason);
      degraded.push(`${name}: ${reason}`);
    }
  });
  return { hits: fuseRankings(lists), narrative: narrative as Narrative | null, degraded };
}
