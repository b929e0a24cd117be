import { mapLimit } from '../concurrency/limits.ts';
import type { WaitingTokenBucket } from '../concurrency/token-bucket.ts';
import { AppError } from '../errors.ts';
import type { IndexTarget } from '../indexing/indexer.ts';
import type { IndexingQueue } from '../ports/indexing-queue.ts';
import type { LanguageModel } from '../ports/language-model.ts';
import type {
  Memory,
  MemoryChangesResult,
  MemoryRevision,
  RelationalStore,
} from '../ports/relational-store.ts';
import type { SearchHit, SearchService } from '../retrieval/search-service.ts';
import { changeOutcome, MAX_CONVERSATION_WRITES, planChanges } from './conversation-changes.ts';
import type {
  ConversationInput,
  ConversationMessage,
  ConversationResult,
  ExtractedFact,
  ExtractionReport,
  SkippedFact,
} from './conversation-types.ts';
import { localFacts } from './local-facts.ts';
import { modelFacts } from './model-facts.ts';

/** Searches run for a conversation's candidate memories at most (user turns are grouped to fit). */
const CANDIDATE_QUERIES = 16;
const HITS_PER_QUERY = 5;
/** Candidate memories shown to the model (and compared against) at most. */
const MAX_CANDIDATES = 30;
const SEARCH_CONCURRENCY = 4;
/** Characters of one search query (the search API's own bound). */
const QUERY_CHARS = 2000;

export interface ConversationServiceDeps {
  store: Pick<
    RelationalStore,
    'applyMemoryChanges' | 'memoryRevisions' | 'searchText' | 'getMemories'
  >;
  search: Pick<SearchService, 'search'>;
  /** Extracts facts when configured; without one, the classifier's save rule does. */
  model: LanguageModel | null;
  /** Bounds model calls; the planning bucket, so both share one budget. */
  bucket: WaitingTokenBucket;
  maxTokenWaitMs: number;
  timeoutMs: number;
  /** The longest memory (`MAX_MEMORY_CHARS`): a longer fact from the model is off-schema. */
  maxMemoryChars: number;
  indexingQueue: IndexingQueue;
  /** Told when an indexing request could not be made; the reconciler retries it. */
  onIndexRequestError?: (error: unknown, targets: readonly IndexTarget[]) => void;
  /** Asked to refresh the user's narrative once memories changed. */
  requestNarrative?: (userId: string) => void;
}

/** What extraction found, with the candidates it was decided against. */
interface Extraction {
  facts: ExtractedFact[];
  skipped: SkippedFact[];
  candidates: Memory[];
  report: ExtractionReport;
}

/** The user's turns as at most {@link CANDIDATE_QUERIES} queries, neighbouring turns together. */
function turnQueries(messages: readonly ConversationMessage[]): string[] {
  const turns = messages
    .filter((m) => m.role === 'user' && m.content.trim().length > 0)
    .map((m) => m.content.trim());
  const size = Math.max(1, Math.ceil(turns.length / CANDIDATE_QUERIES));
  const queries: string[] = [];
  for (let i = 0; i < turns.length; i += size) {
    queries.push(
      turns
        .slice(i, i + size)
        .join('\n')
        .slice(0, QUERY_CHARS),
    );
  }
  return queries;
}

/** Full-text hits per fact: a repeat has every term of the fact, so it ranks first. */
const HITS_PER_FACT = 3;

/**
 * The user's memories that share words with the facts: every fact's
 * full-text query in one round trip (no embedding), enough to find the
 * memories a fact repeats, which is all the local rule decides.
 */
async function textCandidates(
  store: ConversationServiceDeps['store'],
  userId: string,
  facts: readonly ExtractedFact[],
): Promise<Memory[]> {
  const queries = [...new Set(facts.map((f) => f.content.slice(0, QUERY_CHARS)))]
    .slice(0, MAX_CONVERSATION_WRITES)
    .map((query) => ({ userId, query, limit: HITS_PER_FACT }));
  if (queries.length === 0) return [];
  const hits = await store.searchText(queries);
  const ids = [...new Set(hits.flat().map((hit) => hit.id))];
  return ids.length === 0 ? [] : store.getMemories(userId, ids);
}

/** The user's memories the queries find, best first, each once (at its best score). */
async function searchCandidates(
  search: ConversationServiceDeps['search'],
  userId: string,
  queries: readonly string[],
): Promise<Memory[]> {
  const best = new Map<string, SearchHit>();
  await mapLimit(queries, SEARCH_CONCURRENCY, async (query) => {
    for (const hit of await search.search(userId, { query, limit: HITS_PER_QUERY })) {
      const seen = best.get(hit.memory.id);
      if (!seen || seen.score < hit.score) best.set(hit.memory.id, hit);
    }
  });
  return [...best.values()]
    .sort((a, b) => b.score - a.score || (a.memory.id < b.memory.id ? -1 : 1))
    .slice(0, MAX_CANDIDATES)
    .map((hit) => hit.memory);
}

/**
 * Asks for the memories' indexing; a failed request is reported, never
 * thrown: the memories stay pending and the reconciler asks again.
 */
async function requestIndexing(deps: ConversationServiceDeps, targets: IndexTarget[]) {
  if (targets.length === 0) return;
  try {
    await deps.indexingQueue.request(targets);
  } catch (error) {
    deps.onIndexRequestError?.(error, targets);
  }
}

/**
 * Conversations in: what is worth remembering from the user's turns, saved
 * as new memories or as new revisions of the memories it changes. With a
 * model, one extraction call decides each fact against the user's most
 * similar memories (found through search); without one, or when the model
 * fails or answers off-schema, the classifier's save rule reads each
 * sentence (and the result says why), and a full-text lookup finds the
 * memories a fact repeats. Every write of a conversation is one
 * transaction; the memories it touched are then indexed like any save.
 */
export function createConversationService(deps: ConversationServiceDeps) {
  const locally = async (
    userId: string,
    input: ConversationInput,
    report: ExtractionReport,
  ): Promise<Extraction> => {
    const { facts, skipped } = localFacts(input.messages);
    const candidates = await textCandidates(deps.store, userId, facts);
    return { facts, skipped, candidates, report };
  };

  const extract = async (userId: string, input: ConversationInput): Promise<Extraction> => {
    const { model } = deps;
    if (!model) return locally(userId, input, { source: 'local', modelCalls: 0 });
    const candidates = await searchCandidates(deps.search, userId, turnQueries(input.messages));
    if (!(await deps.bucket.take(deps.maxTokenWaitMs))) {
      return locally(userId, input, { source: 'local', fallback: 'rate_limited', modelCalls: 0 });
    }
    const outcome = await modelFacts(model, {
      messages: input.messages,
      candidates,
      maxChars: deps.maxMemoryChars,
      timeoutMs: deps.timeoutMs,
    });
    if ('fallback' in outcome) {
      const { fallback, modelCalls } = outcome;
      return locally(userId, input, { source: 'local', fallback, modelCalls });
    }
    const report: ExtractionReport = { source: 'model', modelCalls: outcome.modelCalls };
    // A fact the model adds may still repeat a memory it was not shown, worded alike.
    const adds = outcome.facts.filter((f) => f.action === 'add');
    const alike = await textCandidates(deps.store, userId, adds);
    const shown = new Set(candidates.map((m) => m.id));
    const all = [...candidates, ...alike.filter((m) => !shown.has(m.id))];
    return { facts: outcome.facts, skipped: [], candidates: all, report };
  };

  return {
    /**
     * Saves what is worth remembering from the conversation's user turns for
     * `userId`: what it created, updated (the old content kept as a
     * revision) and skipped, with reasons, in message order.
     */
    async remember(userId: string, input: ConversationInput): Promise<ConversationResult> {
      const extraction = await extract(userId, input);
      const planned = planChanges(extraction.facts, input, extraction.candidates);
      const { inserts, updates } = planned.changes;
      const written: MemoryChangesResult =
        inserts.length + updates.length > 0
          ? await deps.store.applyMemoryChanges(userId, planned.changes)
          : { inserted: [], updated: [] };
      const outcome = changeOutcome(planned, written);
      const touched = [...outcome.created, ...outcome.updated].map(({ memory }) => memory);
      await requestIndexing(
        deps,
        touched.map((m) => ({ userId, memoryId: m.id })),
      );
      if (touched.length > 0) deps.requestNarrative?.(userId);
      const skipped = [...extraction.skipped, ...outcome.skipped].sort(
        (a, b) => a.message - b.message || (a.sentence ?? 0) - (b.sentence ?? 0),
      );
      return { ...outcome, skipped, extraction: extraction.report };
    },

    /** What the user's memory said before its revisions, newest first; `not_found` when it is not theirs. */
    async revisions(userId: string, memoryId: string): Promise<MemoryRevision[]> {
      const revisions = await deps.store.memoryRevisions(userId, memoryId);
      if (!revisions) throw new AppError('not_found', `memory ${memoryId} not found`);
      return revisions;
    },
  };
}

export type ConversationService = ReturnType<typeof createConversationService>;
