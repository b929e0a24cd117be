import { entitiesInText } from '../extraction/entity-extractor.ts';
import type { Embedder } from '../ports/embedder.ts';
import type { GraphStore } from '../ports/graph-store.ts';
import type { Memory, RelationalStore } from '../ports/relational-store.ts';
import type { VectorIndex } from '../ports/vector-index.ts';
import { fuseRankings, graphLists, ranked } from './fusion.ts';

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

      const fused = fuseRankings([
        { source: 'vector', weight: 1, items: ranked(vectorHits.map((h) => h.id)) },
        ...graphLists(graphHits, pool),
      ]);
      const byId = new Map(fused.map((f) => [f.id, f]));

      const memories = await store.getMemories(userId, [...byId.keys()]);
      return memories
        .filter((m) => m.state === 'active' && (!tags || m.tags.some((t) => tags.includes(t))))
        .map((memory) => {
          const entry = byId.get(memory.id)!;
          return { memory, score: entry.score, sources: entry.sources as SearchHit['sources'] };
        })
        .sort((a, b) => b.score - a.score || (a.memory.id < b.memory.id ? -1 : 1))
        .slice(0, input.limit);
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
