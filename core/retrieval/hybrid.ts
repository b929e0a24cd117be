import { entityMatcher, type EntityMatcher } from '../extraction/entity-extractor.ts';
import type { Embedder } from '../ports/embedder.ts';
import type { GraphStore } from '../ports/graph-store.ts';
import type { TextSearcher, VectorSearcher } from './batched-search.ts';
import { genericMentions, graphLists, ranked, type RankedList } from './fusion.ts';

/** The retrievers a query can use; vector and text queries go through the batching window. */
export interface RetrievalDeps {
  /**
   * The serving embedding space: its embedder and its index's searcher, taken
   * together so a query never meets vectors of another space. Null while no
   * space can be read.
   */
  space(): { id: string; embedder: Embedder; vectors: VectorSearcher } | null;
  text: TextSearcher;
  graph: GraphStore;
  /**
   * The user's entity names as of a data version, ready to match (cached by
   * the engine); without it, or without a version, every query reads them.
   */
  entities?(userId: string, dataVersion: number): Promise<EntityMatcher>;
}

/** What one query asks of a retriever: the user, the text, how many candidates, the tag filter. */
export interface RetrievalQuery {
  userId: string;
  query: string;
  pool: number;
  tags?: string[] | undefined;
  /** The user's data version when the caller knows it: lets cached per-user state serve. */
  dataVersion?: number;
}

/**
 * Weights of the retrievers in reciprocal-rank fusion. Meaning (vector) and
 * words (BM25) count the same: on LoCoMo each finds evidence the other misses.
 */
export const FUSION_WEIGHTS = { vector: 1, lexical: 1, graph: 1 } as const;

/** How many of a user's entities (most mentioned first) a query is matched against. */
export const ENTITY_NAMES_LIMIT = 5000;

const tagFilter = (tags: string[] | undefined) => (tags && tags.length > 0 ? { tags } : {});

/** Nearest memories by meaning; none while no embedding space is readable. */
export async function vectorList(deps: RetrievalDeps, q: RetrievalQuery): Promise<RankedList> {
  const space = deps.space();
  if (!space) return { source: 'vector', weight: FUSION_WEIGHTS.vector, items: [] };
  const [vector] = await space.embedder.embed([q.query], { kind: 'query' });
  const hits = await space.vectors.search({
    userId: q.userId,
    vector: vector!,
    limit: q.pool,
    ...tagFilter(q.tags),
  });
  return { source: 'vector', weight: FUSION_WEIGHTS.vector, items: ranked(hits.map((h) => h.id)) };
}

/** Memories sharing the query's words, ranked by BM25. */
export async function lexicalList(deps: RetrievalDeps, q: RetrievalQuery): Promise<RankedList> {
  const hits = await deps.text.search({
    userId: q.userId,
    query: q.query,
    limit: q.pool,
    ...tagFilter(q.tags),
  });
  return {
    source: 'lexical',
    weight: FUSION_WEIGHTS.lexical,
    items: ranked(hits.map((h) => h.id)),
  };
}

/**
 * Memories that mention an entity the text names, or one related to it (one
 * hop). The tag filter is applied by the caller, on the fused result.
 */
export async function graphRanked(
  deps: RetrievalDeps,
  q: Omit<RetrievalQuery, 'tags'>,
): Promise<RankedList[]> {
  const match =
    deps.entities && q.dataVersion !== undefined
      ? await deps.entities(q.userId, q.dataVersion)
      : entityMatcher(await deps.graph.entityNames(q.userId, { limit: ENTITY_NAMES_LIMIT }));
  const named = match(q.query).slice(0, 8);
  if (named.length === 0) return [];
  const hits = await deps.graph.findMemories(q.userId, named, {
    limit: q.pool,
    maxHops: 1,
    maxMentions: genericMentions(q.pool),
  });
  return graphLists(hits, q.pool, FUSION_WEIGHTS.graph);
}
