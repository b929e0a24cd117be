import { entitiesInText } from '../extraction/entity-extractor.ts';
import type { Embedder } from '../ports/embedder.ts';
import type { GraphHit, GraphStore } from '../ports/graph-store.ts';
import type { Memory, RelationalStore } from '../ports/relational-store.ts';
import type { VectorIndex } from '../ports/vector-index.ts';

export interface SearchInput {
  query: string;
  limit: number;
  tags?: string[];
}

export interface SearchHit {
  memory: Memory;
  /** Fused relevance: higher is better; comparable within one result list. */
  score: number;
  /** Which retrievers found it. */
  sources: ('vector' | 'graph')[];
}

export interface SearchDeps {
  store: RelationalStore;
  vectors: VectorIndex;
  graph: GraphStore;
  embedder: Embedder;
}

// Reciprocal-rank fusion constant: damps the weight of the very top ranks.
const RRF_K = 60;
// A memory reached through a related entity counts less than one naming it.
const HOP_WEIGHT = [1, 0.5] as const;

/**
 * Graph hits worth fusing, with tie-aware ranks. An entity that leads to a
 * large share of the candidates ("Durable" in fifty notes that all start with
 * it) tells nothing about which one is meant, so its hits are dropped; hits
 * the graph cannot tell apart (same hops) share one rank, so the graph never
 * reorders what only the vectors can order.
 */
function graphRanks(hits: readonly GraphHit[], pool: number) {
  const perEntity = new Map<string, number>();
  for (const hit of hits) perEntity.set(hit.entity, (perEntity.get(hit.entity) ?? 0) + 1);
  const generic = Math.max(3, Math.floor(pool / 4));
  const kept = hits.filter((hit) => (perEntity.get(hit.entity) ?? 0) <= generic);
  const seen = new Set<string>();
  const unique = kept.filter((hit) => !seen.has(hit.memoryId) && seen.add(hit.memoryId));
  return unique.map((hit) => {
    const first = unique.findIndex((h) => h.hops === hit.hops);
    const count = unique.filter((h) => h.hops === hit.hops).length;
    return { memoryId: hit.memoryId, hops: hit.hops, rank: first + (count + 1) / 2 };
  });
}

/**
 * Finds a user's memories for a query: vector similarity and the entity
 * graph (entities named in the query pull in the memories that mention them
 * or a related entity), run in parallel and fused by reciprocal rank. Only
 * active memories that match the tag filter come back.
 */
export function createSearchService({ store, vectors, graph, embedder }: SearchDeps) {
  return {
    async search(userId: string, input: SearchInput): Promise<SearchHit[]> {
      const pool = Math.max(input.limit * 3, 20);
      const tags = input.tags && input.tags.length > 0 ? input.tags : undefined;
      const [vectorHits, graphHits] = await Promise.all([
        embedder
          .embed([input.query])
          .then(([vector]) =>
            vectors.search({ userId, vector: vector!, limit: pool, ...(tags ? { tags } : {}) }),
          ),
        graph.entityNames(userId, { limit: 5000 }).then((names) => {
          const named = entitiesInText(input.query, names).slice(0, 8);
          return named.length > 0
            ? graph.findMemories(userId, named, { limit: pool, maxHops: 1 })
            : [];
        }),
      ]);

      const fused = new Map<string, { score: number; sources: Set<'vector' | 'graph'> }>();
      const add = (id: string, score: number, source: 'vector' | 'graph') => {
        const entry = fused.get(id) ?? { score: 0, sources: new Set() };
        entry.score += score;
        entry.sources.add(source);
        fused.set(id, entry);
      };
      vectorHits.forEach((hit, rank) => add(hit.id, 1 / (RRF_K + rank + 1), 'vector'));
      graphRanks(graphHits, pool).forEach(({ memoryId, hops, rank }) =>
        add(memoryId, (HOP_WEIGHT[hops as 0 | 1] ?? 0.5) / (RRF_K + rank), 'graph'),
      );

      const memories = await store.getMemories(userId, [...fused.keys()]);
      return memories
        .filter((m) => m.state === 'active' && (!tags || m.tags.some((t) => tags.includes(t))))
        .map((memory) => {
          const entry = fused.get(memory.id)!;
          return { memory, score: entry.score, sources: [...entry.sources].sort() };
        })
        .sort((a, b) => b.score - a.score || (a.memory.id < b.memory.id ? -1 : 1))
        .slice(0, input.limit);
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
