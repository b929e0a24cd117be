import type { Memory, RelationalStore } from '../ports/relational-store.ts';
import { fuseRankings } from './fusion.ts';
import { graphRanked, lexicalList, vectorList, type RetrievalDeps } from './hybrid.ts';

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
  sources: ('vector' | 'lexical' | 'graph')[];
}

export interface SearchDeps extends RetrievalDeps {
  store: RelationalStore;
}

/**
 * Finds a user's memories for a query: vector similarity, full-text (BM25)
 * and the entity graph (entities named in the query pull in the memories
 * that mention them or a related entity), run in parallel and fused by
 * reciprocal rank. Only active memories that match the tag filter come back.
 */
export function createSearchService(deps: SearchDeps) {
  const { store } = deps;
  return {
    async search(userId: string, input: SearchInput): Promise<SearchHit[]> {
      const pool = Math.max(input.limit * 3, 20);
      const tags = input.tags && input.tags.length > 0 ? input.tags : undefined;
      const query = { userId, query: input.query, pool, tags };
      const [vector, lexical, graph] = await Promise.all([
        vectorList(deps, query),
        lexicalList(deps, query),
        graphRanked(deps, query),
      ]);
      const fused = fuseRankings([vector, lexical, ...graph]);
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
