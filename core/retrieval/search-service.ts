import { withTimeout } from '../concurrency/limits.ts';
import { AppError } from '../errors.ts';
import type { Memory, RelationalStore, RetrievalFilter } from '../ports/relational-store.ts';
import { effectiveFilter, matchesFilter } from './filters.ts';
import { fuseRankings, type RankedList } from './fusion.ts';
import {
  entityGraphLists,
  lexicalList,
  memoriesFor,
  timeRanked,
  vectorList,
  type RetrievalDeps,
  type RetrievalQuery,
} from './hybrid.ts';

export interface SearchInput {
  query: string;
  limit: number;
  /** Which memories may come back; only active ones when it names no state. */
  filter?: RetrievalFilter;
  /** Shorthand for `filter.tagsAny` (an empty list is no tag filter). */
  tags?: string[];
  /** Shorthand for `filter.from`: only memories whose event happened at or after this time. */
  from?: Date;
  /** Shorthand for `filter.to`: only memories whose event happened before this time. */
  to?: Date;
}

export interface SearchHit {
  memory: Memory;
  /** Fused relevance: higher is better; comparable within one result list. */
  score: number;
  /** Which retrievers found it. */
  sources: Retriever[];
}

/**
 * The retrievers a search runs, by the names `sources` and `degraded` use;
 * `time` runs only for a query about time (see time-signal.ts).
 */
export type Retriever = 'vector' | 'lexical' | 'graph' | 'time';

/** A search's hits, and which retrievers failed or timed out (the hits are then partial). */
export interface SearchResult {
  hits: SearchHit[];
  /** Names of the retrievers that gave no answer; empty when every one answered. */
  degraded: Retriever[];
}

export interface SearchDeps extends RetrievalDeps {
  store: RelationalStore;
  /** How long each retriever may take before the search goes on without it; no limit when absent. */
  retrieverTimeoutMs?: number;
  /** Told why a retriever failed or timed out (the result names only the retriever). */
  onRetrieverError?: (retriever: Retriever, error: unknown) => void;
}

/** The retrievers, each with what it answers: ranked lists, or null when the query asks nothing of it. */
const RETRIEVERS: readonly {
  name: Retriever;
  run(deps: SearchDeps, q: RetrievalQuery): Promise<RankedList[] | null>;
}[] = [
  { name: 'vector', run: async (deps, q) => [await vectorList(deps, q)] },
  { name: 'lexical', run: async (deps, q) => [await lexicalList(deps, q)] },
  { name: 'graph', run: (deps, q) => entityGraphLists(deps, q) },
  { name: 'time', run: (deps, q) => timeRanked(deps, q) },
];

/**
 * Runs every retriever at once, each with its own deadline. A failed one is
 * reported and left out; when none of those the query needs answers, the
 * first one's error is thrown (a database that is down stays a 503).
 */
async function retrieveAll(deps: SearchDeps, q: RetrievalQuery) {
  const settled = await Promise.allSettled(
    RETRIEVERS.map((r) => {
      const ms = deps.retrieverTimeoutMs;
      const work = r.run(deps, q);
      return ms === undefined
        ? work
        : withTimeout(
            work,
            ms,
            r.name,
            () => new AppError('timeout', `${r.name} did not answer within ${ms} ms`),
          );
    }),
  );
  const lists: RankedList[] = [];
  const degraded: Retriever[] = [];
  let answered = 0;
  settled.forEach((outcome, i) => {
    const { name } = RETRIEVERS[i]!;
    if (outcome.status === 'rejected') {
      degraded.push(name);
      deps.onRetrieverError?.(name, outcome.reason);
    } else if (outcome.value) {
      answered++;
      lists.push(...outcome.value);
    }
  });
  const firstFailure = settled.find((s) => s.status === 'rejected');
  if (answered === 0 && firstFailure) throw firstFailure.reason;
  return { lists, degraded };
}

/**
 * Candidates each retriever is asked for. Every retriever applies the
 * filter itself, so a filtered search needs no deeper pool than any other.
 */
export function candidatePool(input: Pick<SearchInput, 'limit'>): number {
  return Math.max(input.limit * 3, 20);
}

/**
 * Finds a user's memories for a query: vector similarity, full-text (BM25),
 * the entity graph (entities named in the query pull in the memories that
 * mention them or a related entity) and, for a query about time, the time
 * signal (which of the vector and full-text candidates' times answer it),
 * run in parallel, each over the memories that pass the filter, and fused by
 * reciprocal rank. A query about time searches vector and full-text once,
 * deep enough for the time signal, and reads its candidates once. Only
 * unexpired memories that pass the filter as they are now come back (a
 * vector's payload may lag an edit until it is indexed again). A retriever
 * that fails or times out leaves a partial result that says so.
 */
export function createSearchService(deps: SearchDeps) {
  const { store } = deps;
  const searchWithStatus = async (userId: string, input: SearchInput): Promise<SearchResult> => {
    const filter = effectiveFilter(input.filter, input);
    const q: RetrievalQuery = { userId, query: input.query, pool: candidatePool(input), filter };
    const { lists, degraded } = await retrieveAll(deps, q);
    const fused = fuseRankings(lists);
    const byId = new Map(fused.map((f) => [f.id, f]));

    // The time signal read its candidates already: most hits are among them.
    const memories = await memoriesFor(store, q, [...byId.keys()]);
    const hits = memories
      .filter((m) => matchesFilter(m, filter))
      .map((memory) => {
        const entry = byId.get(memory.id)!;
        return { memory, score: entry.score, sources: entry.sources as Retriever[] };
      })
      .sort((a, b) => b.score - a.score || (a.memory.id < b.memory.id ? -1 : 1))
      .slice(0, input.limit);
    return { hits, degraded };
  };
  return {
    searchWithStatus,
    /** The hits of {@link searchWithStatus}, without saying which retrievers failed. */
    async search(userId: string, input: SearchInput): Promise<SearchHit[]> {
      return (await searchWithStatus(userId, input)).hits;
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
