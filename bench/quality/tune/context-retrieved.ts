// What `/v1/context` retrieves for a question at its default depth, through the product's
// own strategies (core/context/strategies.ts), kept so the sweep can fuse it again under
// other constants: each plan query's vector and full-text answers, the graph around the
// queries, the user's recent memories, and the ids the product fused from them as run.
import {
  planStrategies,
  strategyPool,
  type StrategyDeps,
} from '../../../core/context/strategies.ts';
import { CONTEXT_LIMITS } from '../../../core/context/context-service.ts';
import { heuristicPlan } from '../../../core/planning/heuristic-planner.ts';
import { DEFAULT_STATE } from '../../../core/retrieval/filters.ts';
import { fuseRankings, type RankedList } from '../../../core/retrieval/fusion.ts';
import { entityGraphLists } from '../../../core/retrieval/hybrid.ts';

/**
 * How many memories `/v1/context` returns at its default depth (2). Its hits
 * are the first this many of the fused lists that still pass the filter (all do here).
 */
export const CONTEXT_LIMIT = CONTEXT_LIMITS[2];

/** One question's context-path lists (ids best first, as the strategies returned them). */
export interface ContextRetrieved {
  /** Per plan query (the message, then its content words when it has more than three). */
  vector: string[][];
  lexical: string[][];
  /** The graph around the plan's queries at weight 1 (hop-1 at ½): the sweep scales them. */
  graph: RankedList[];
  /** The user's latest memories, as the `recent` strategy ranks them. */
  recent: string[];
  /** The product's own context hits for the question, fused with the constants it ran with. */
  inUse: string[];
}

/**
 * Runs the strategies of the plan `/v1/context` makes for `question` without
 * a model (the heuristic plan; the classifier's fast plan searches the same
 * queries) with the default filter, and keeps their lists. The graph is
 * asked again at weight 1, since the product's weight may be 0; the time
 * strategy's list is left out, since the sweep rebuilds it per point from
 * the search path's deeper answers (the same first query).
 */
export async function retrieveContext(
  deps: StrategyDeps,
  userId: string,
  question: string,
): Promise<ContextRetrieved> {
  const plan = heuristicPlan(question);
  const filter = { state: DEFAULT_STATE };
  const strategies = planStrategies(deps, userId, plan, CONTEXT_LIMIT, undefined, filter);
  const named = new Map<string, RankedList[]>();
  const all: RankedList[] = [];
  for (const s of strategies) {
    const { lists } = await s.run();
    named.set(s.name, lists);
    all.push(...lists);
  }
  const ids = (name: string) => named.get(name)?.[0]?.items.map((item) => item.id) ?? [];
  const pool = strategyPool(CONTEXT_LIMIT);
  const graphQuery = { userId, query: plan.queries.join(' \n '), pool, filter };
  return {
    vector: plan.queries.map((_, i) => ids(`vector:${i + 1}`)),
    lexical: plan.queries.map((_, i) => ids(`lexical:${i + 1}`)),
    graph: await entityGraphLists(deps, graphQuery, 1),
    recent: ids('recent'),
    inUse: fuseRankings(all)
      .slice(0, CONTEXT_LIMIT)
      .map((hit) => hit.id),
  };
}
