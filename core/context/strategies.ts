import type { Narrative, RelationalStore, RetrievalFilter } from '../ports/relational-store.ts';
import type { ContextPlan } from '../planning/context-plan.ts';
import { ranked, type RankedList } from '../retrieval/fusion.ts';
import {
  entityGraphLists,
  lexicalList,
  timeRanked,
  vectorList,
  type RetrievalDeps,
  type RetrievalQuery,
} from '../retrieval/hybrid.ts';
import { recentMemories } from './new-conversation.ts';

export interface StrategyDeps extends RetrievalDeps {
  store: RelationalStore;
  /**
   * The ids of the user's latest memories as of a data version, for ranking
   * (cached by the engine); without it, or without a version, they are read.
   */
  recentIds?(
    userId: string,
    limit: number,
    filter: RetrievalFilter | undefined,
    dataVersion: number,
  ): Promise<readonly string[]>;
}

/**
 * How many candidates each of a plan's retrievers returns for a context of
 * `limit` memories: twice the limit, so fusion has more than it keeps.
 */
export const strategyPool = (limit: number) => Math.max(limit * 2, 10);

/** How many of the user's latest memories the `recent` step ranks for a context of `limit`. */
const recentCount = (limit: number) => Math.min(limit, 5);

/**
 * The weight of the `recent` step's list in the context's fusion (vector is
 * 1). Chosen by `npm run tune:fusion -- --data ../shared/data/locomo/locomo-dev.json`
 * (bench/quality/tune/context-sweep.ts): leave-one-conversation-out over
 * {0, 0.05, 0.1, 0.2, 0.3, 0.5}, each fold scoring the context at depth 2
 * (8 memories) with the search constants it chose. Five folds chose 0, one
 * 0.1: held-out context recall@10 0.709 (temporal 0.858) against 0.707
 * (0.852) with the 0.3 used before. On LoCoMo the latest memories, found
 * by no search, took a searched one's place and seldom held evidence. At 0
 * they still fill a context the searches leave short and are named in the
 * `sources` of hits they share. Retrieved set: bench/reports/
 * tune-fusion-2026-12-06T22-07-20-553Z; swept again (with --cache) in
 * tune-fusion-2026-12-06T23-08-58-525Z. Swept again at 10 memories, the
 * default since 2026-12-07 (tune-fusion-2026-12-07T06-31-18-907Z): five
 * folds chose 0, one 0.3, with the same held-out recall, so it stays 0.
 */
export const RECENT_WEIGHT = 0;

/** One retrieval step of a plan: its name and the ranked lists it yields. */
export interface Strategy {
  name: string;
  run(): Promise<{ lists: RankedList[]; narrative?: Narrative | null }>;
}

/**
 * The independent retrieval steps a plan asks for: a vector and a full-text
 * search per query, the user's recent memories, the entity graph around the
 * names the queries mention, the time signal for a first query about time
 * (from the same searches), and the narrative when the plan wants it. Each
 * returns only memories that pass the filter. They share no state, so they
 * can run concurrently; each fails on its own.
 */
export function planStrategies(
  deps: StrategyDeps,
  userId: string,
  plan: ContextPlan,
  limit: number,
  dataVersion?: number,
  filter?: RetrievalFilter,
): Strategy[] {
  const pool = strategyPool(limit);
  const filtered = filter ? { filter } : {};
  // One query object per plan query: its vector and full-text searches serve the time signal too.
  const queries: RetrievalQuery[] = plan.queries.map((query) => ({
    userId,
    query,
    pool,
    ...filtered,
  }));
  const strategies: Strategy[] = queries.flatMap((q, i) => [
    { name: `vector:${i + 1}`, run: async () => ({ lists: [await vectorList(deps, q)] }) },
    { name: `lexical:${i + 1}`, run: async () => ({ lists: [await lexicalList(deps, q)] }) },
  ]);
  strategies.push({
    name: 'graph',
    run: async () => ({
      lists: await entityGraphLists(deps, {
        userId,
        query: plan.queries.join(' \n '),
        pool,
        ...filtered,
        ...(dataVersion === undefined ? {} : { dataVersion }),
      }),
    }),
  });
  // The time signal of the plan's first query (the message, or the model's main query): its own
  // step, so its failure is named in `degraded` like any other.
  const first = queries[0];
  if (first) {
    strategies.push({
      name: 'time',
      run: async () => ({ lists: (await timeRanked(deps, first)) ?? [] }),
    });
  }
  strategies.push({
    name: 'recent',
    async run() {
      const n = recentCount(limit);
      const ids =
        deps.recentIds && dataVersion !== undefined
          ? await deps.recentIds(userId, n, filter, dataVersion)
          : (await recentMemories(deps.store, userId, n, filter)).map((m) => m.id);
      return { lists: [{ source: 'recent', weight: RECENT_WEIGHT, items: ranked(ids) }] };
    },
  });
  if (plan.includeNarrative) {
    strategies.push({
      name: 'narrative',
      async run() {
        return { lists: [], narrative: await deps.store.latestNarrative(userId) };
      },
    });
  }
  return strategies;
}
