import { entitiesInText } from '../extraction/entity-extractor.ts';
import type { Embedder } from '../ports/embedder.ts';
import type { GraphStore } from '../ports/graph-store.ts';
import type { Narrative, RelationalStore } from '../ports/relational-store.ts';
import type { ContextPlan } from '../planning/context-plan.ts';
import type { VectorSearcher } from '../retrieval/batched-vector-search.ts';
import { graphLists, ranked, type RankedList } from '../retrieval/fusion.ts';

export interface StrategyDeps {
  store: RelationalStore;
  graph: GraphStore;
  embedder: Embedder;
  vectors: VectorSearcher;
}

/** One retrieval step of a plan: its name and the ranked lists it yields. */
export interface Strategy {
  name: string;
  run(): Promise<{ lists: RankedList[]; narrative?: Narrative | null }>;
}

/**
 * The independent retrieval steps a plan asks for: a vector search per
 * query, the user's recent memories, the entity graph around the names the
 * queries mention, and the narrative when the plan wants it. They share no
 * state, so they can run concurrently.
 */
export function planStrategies(
  deps: StrategyDeps,
  userId: string,
  plan: ContextPlan,
  limit: number,
): Strategy[] {
  const pool = Math.max(limit * 2, 10);
  const strategies: Strategy[] = plan.queries.map((query, i) => ({
    name: `vector:${i + 1}`,
    async run() {
      const [vector] = await deps.embedder.embed([query]);
      const hits = await deps.vectors.search({ userId, vector: vector!, limit: pool });
      return { lists: [{ source: 'vector', weight: 1, items: ranked(hits.map((h) => h.id)) }] };
    },
  }));
  strategies.push({
    name: 'graph',
    async run() {
      const names = await deps.graph.entityNames(userId, { limit: 5000 });
      const named = entitiesInText(plan.queries.join(' \n '), names).slice(0, 8);
      if (named.length === 0) return { lists: [] };
      const hits = await deps.graph.findMemories(userId, named, { limit: pool, maxHops: 1 });
      return { lists: graphLists(hits, pool) };
    },
  });
  strategies.push({
    name: 'recent',
    async run() {
      const recent = await deps.store.recentMemories(userId, Math.min(limit, 5));
      // Recency is a weak signal on its own: it tips the balance between similar candidates.
      return { lists: [{ source: 'recent', weight: 0.3, items: ranked(recent.map((m) => m.id)) }] };
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
