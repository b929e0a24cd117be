import { entityMatcher, type EntityMatcher } from '../extraction/entity-extractor.ts';
import type { Embedder } from '../ports/embedder.ts';
import type { GraphStore } from '../ports/graph-store.ts';
import type { Memory, RelationalStore, RetrievalFilter } from '../ports/relational-store.ts';
import type { TextSearcher, VectorSearcher } from './batched-search.ts';
import { matchesFilter, narrowsBeyondState } from './filters.ts';
import {
  FUSION_WEIGHTS,
  genericMentions,
  graphLists,
  ranked,
  RRF_K,
  TIME_POOL,
  TIME_SPAN_POOL,
  type FusionWeights,
  type RankedList,
} from './fusion.ts';
import {
  eventWords,
  filterWithin,
  hasTimeIntent,
  timeOfMemory,
  namedSpan,
  parseQueryTime,
  timeListFrom,
  type MemoryTime,
} from './time-signal.ts';
import type { TimeSpan } from './time-expressions.ts';

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
  /** Where the time signal reads its candidates' content and dates; without it there is no time signal. */
  store?: Pick<RelationalStore, 'getMemories'>;
  /** The clock "last year" and "yesterday" in a query are read against (default `Date.now`). */
  now?: () => number;
}

/** What one query asks of a retriever: the user, the text, how many candidates, the filter. */
export interface RetrievalQuery {
  userId: string;
  query: string;
  pool: number;
  /** Every retriever returns only memories that pass it (see {@link RetrievalFilter}). */
  filter?: RetrievalFilter | undefined;
  /** The user's data version when the caller knows it: lets cached per-user state serve. */
  dataVersion?: number;
}

/** How many of a user's entities (most mentioned first) a query is matched against. */
export const ENTITY_NAMES_LIMIT = 5000;

const filterOf = (filter: RetrievalFilter | undefined) => (filter ? { filter } : {});

/**
 * Answers kept per query object (vector and full-text ids by depth, the
 * query vector by space, what the query says about time): the time signal
 * reads the same answers as the search beside it, without asking twice.
 */
const perQuery = new WeakMap<object, Map<string, unknown>>();
function once<T>(q: object, key: string, compute: () => T): T {
  const kept = perQuery.get(q) ?? new Map<string, unknown>();
  perQuery.set(q, kept);
  if (!kept.has(key)) kept.set(key, compute());
  return kept.get(key) as T;
}

const askedTime = (deps: RetrievalDeps, q: RetrievalQuery) =>
  once(q, 'time', () => parseQueryTime(q.query, (deps.now ?? Date.now)()));

/**
 * What vector and full-text search for: for a query that names a time ("in
 * May 2023", "last week"), its other words, the event it asks about; the
 * time signal matches the time against the memories' own. A date left in
 * would rank memories by the dates their text carries (a journal's stamp,
 * "on 8 May, 2023"), the shortest first, instead of by the event.
 */
const searchText = (deps: RetrievalDeps, q: RetrievalQuery): string =>
  once(q, 'words', () => (hasTimeSignal(deps, q) ? eventWords(q.query) : q.query));

/**
 * How deep vector and full-text search for a query: its pool, or for a
 * query about time the time signal's deeper pool, so that one search serves
 * both (a deeper search starts with the shallower one: both order ties by id).
 */
function searchDepth(deps: RetrievalDeps, q: RetrievalQuery): number {
  return hasTimeSignal(deps, q) ? Math.max(q.pool, TIME_POOL) : q.pool;
}

/**
 * The `limit` memories nearest the query by meaning, of those whose event
 * happened `within` a span when one is given; none while no space is readable.
 */
function nearest(
  deps: RetrievalDeps,
  q: RetrievalQuery,
  limit: number,
  within?: TimeSpan,
): Promise<string[]> {
  const space = deps.space();
  if (!space) return Promise.resolve([]);
  const filter = within ? filterWithin(q.filter, within) : q.filter;
  if (filter === null) return Promise.resolve([]);
  const vector = once(q, `embedding:${space.id}`, () =>
    space.embedder.embed([searchText(deps, q)], { kind: 'query' }).then(([v]) => v!),
  );
  const span = within ? `:${within.from}-${within.to}` : '';
  return once(q, `vector:${space.id}:${limit}${span}`, async () => {
    const hits = await space.vectors.search({
      userId: q.userId,
      vector: await vector,
      limit,
      ...filterOf(filter),
    });
    return hits.map((h) => h.id);
  });
}

/** The `limit` memories nearest the query by meaning of the time it names; none if it names none. */
export function ofNamedTime(deps: RetrievalDeps, q: RetrievalQuery, limit: number) {
  const span = limit > 0 ? namedSpan(askedTime(deps, q)) : null;
  return span ? nearest(deps, q, limit, span) : Promise.resolve([]);
}

/** The `limit` memories sharing most of the query's words, by BM25. */
function matching(deps: RetrievalDeps, q: RetrievalQuery, limit: number): Promise<string[]> {
  return once(q, `text:${limit}`, async () => {
    const hits = await deps.text.search({
      userId: q.userId,
      query: searchText(deps, q),
      limit,
      ...filterOf(q.filter),
    });
    return hits.map((h) => h.id);
  });
}

/** Nearest memories by meaning; none while no embedding space is readable. */
export async function vectorList(deps: RetrievalDeps, q: RetrievalQuery): Promise<RankedList> {
  const ids = await nearest(deps, q, searchDepth(deps, q));
  return { source: 'vector', weight: FUSION_WEIGHTS.vector, items: ranked(ids.slice(0, q.pool)) };
}

/** Memories sharing the query's words, ranked by BM25. */
export async function lexicalList(deps: RetrievalDeps, q: RetrievalQuery): Promise<RankedList> {
  const ids = await matching(deps, q, searchDepth(deps, q));
  return { source: 'lexical', weight: FUSION_WEIGHTS.lexical, items: ranked(ids.slice(0, q.pool)) }; // prettier-ignore
}

/**
 * Memories that mention an entity the text names, or one related to it (one
 * hop). The graph holds no memory fields, so a filter that asks for more
 * than a state is checked against the memories themselves (with a store);
 * the state alone is left to the caller, which reads every hit's memory.
 */
export async function entityGraphLists(
  deps: RetrievalDeps,
  q: RetrievalQuery,
  weight: number = FUSION_WEIGHTS.graph,
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
  return graphLists(await passing(deps, q, hits), q.pool, weight);
}

/** The graph hits whose memories pass the query's filter (see {@link entityGraphLists}). */
async function passing<H extends { memoryId: string }>(
  deps: RetrievalDeps,
  q: RetrievalQuery,
  hits: readonly H[],
): Promise<readonly H[]> {
  const filter = q.filter;
  if (!filter || !narrowsBeyondState(filter) || hits.length === 0) return hits;
  // Without a store the filter cannot be checked: nothing is safer than a wrong memory.
  if (!deps.store) return [];
  const memories = await deps.store.getMemories(q.userId, [...new Set(hits.map((h) => h.memoryId))]); // prettier-ignore
  const kept = new Set(memories.filter((m) => matchesFilter(m, filter)).map((m) => m.id));
  return hits.filter((h) => kept.has(h.memoryId));
}

/**
 * What the time signal is fused with: k, the weights, how deep it looks for
 * candidates, and how many memories of the time a query names it asks for.
 */
export interface TimeConstants {
  k: number;
  weights: FusionWeights;
  pool: number;
  /** None when absent. */
  spanPool?: number;
}
const TIME_CONSTANTS: TimeConstants = {
  k: RRF_K,
  weights: FUSION_WEIGHTS,
  pool: TIME_POOL,
  spanPool: TIME_SPAN_POOL,
};

/** Whether a query gets a time signal: it asks about time, and there is a store to read dates from. */
export function hasTimeSignal(
  deps: RetrievalDeps,
  q: RetrievalQuery,
  weight: number = FUSION_WEIGHTS.time,
): boolean {
  return weight > 0 && deps.store !== undefined && hasTimeIntent(askedTime(deps, q));
}

/**
 * The time signal of a query that asks about time (see time-signal.ts): of
 * the `pool` best vector and full-text candidates (deeper than the search's
 * own, so a memory of the day the query names is found even when its words
 * rank it low), those whose times answer the query, in candidate order.
 * The candidates are the vector and full-text searches' own answers (one
 * search each, at this depth: see {@link searchDepth}) and, for a query that
 * names a time ("in May 2023"), the `spanPool` memories of that time nearest
 * it by meaning (one more vector query, narrowed to when they happened): the
 * event the query asks about may share few words with it, and that time's
 * other memories outrank it in the whole pool. When a search failed, the
 * others serve alone. Null for a query that does not ask about time, or
 * without a store: there is nothing to do.
 */
export async function timeRanked(
  deps: RetrievalDeps,
  q: RetrievalQuery,
  constants: TimeConstants = TIME_CONSTANTS,
): Promise<RankedList[] | null> {
  const store = deps.store;
  if (!store || !hasTimeSignal(deps, q, constants.weights.time)) return null;
  const asked = askedTime(deps, q);
  const pool = Math.max(q.pool, constants.pool);
  const [byMeaning, byWords, ofTheTime] = await Promise.allSettled([
    nearest(deps, q, pool),
    matching(deps, q, pool),
    ofNamedTime(deps, q, constants.spanPool ?? 0),
  ]);
  if (byMeaning.status === 'rejected' && byWords.status === 'rejected') throw byMeaning.reason;
  const idsOf = (s: PromiseSettledResult<string[]>) => (s.status === 'fulfilled' ? s.value : []);
  const found: RankedList[] = [
    { source: 'vector', weight: constants.weights.vector, items: ranked(idsOf(byMeaning)) },
    { source: 'lexical', weight: constants.weights.lexical, items: ranked(idsOf(byWords)) },
    { source: 'vector', weight: constants.weights.vector, items: ranked(idsOf(ofTheTime)) },
  ];
  const ids = [...new Set(found.flatMap((list) => list.items.map((item) => item.id)))];
  const times = new Map<string, MemoryTime>();
  for (const memory of await memoriesFor(store, q, ids)) {
    if (!q.filter || matchesFilter(memory, q.filter)) times.set(memory.id, timeOfMemory(memory));
  }
  return [timeListFrom(asked, found, (id) => times.get(id), constants)];
}

/**
 * The user's memories among `ids`, read once per query object: a read made
 * for it before (the time signal's, of its candidates) serves again, and
 * only ids no earlier read asked for are read now (none, most often, when
 * the search reads its hits after the time signal read its candidates). A
 * read that failed is made again.
 */
export async function memoriesFor(
  store: Pick<RelationalStore, 'getMemories'>,
  q: RetrievalQuery,
  ids: readonly string[],
): Promise<Memory[]> {
  const reads = once(q, 'memories', () => [] as { ids: Set<string>; read: Promise<Memory[]> }[]);
  const byId = new Map<string, Memory>();
  const asked = new Set<string>();
  for (const { ids: own, read } of reads) {
    const memories = await read.catch(() => null);
    if (!memories) continue;
    for (const id of own) asked.add(id);
    for (const memory of memories) byId.set(memory.id, memory);
  }
  const missing = [...new Set(ids)].filter((id) => !asked.has(id));
  if (missing.length > 0) {
    const read = store.getMemories(q.userId, missing);
    reads.push({ ids: new Set(missing), read });
    for (const memory of await read) byId.set(memory.id, memory);
  }
  return ids.flatMap((id) => byId.get(id) ?? []);
}
