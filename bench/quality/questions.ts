// Asking the scored questions through `/v1/search` and `/v1/context`, and what their
// answers add up to: evidence recall per endpoint, the context's plan sources, latency.
import { isMemoryEngineError } from '../../client/src/index.ts';
import {
  checkInterrupted,
  mapLimit,
  roundTo,
  sleep,
  summarizeMs,
  userClient,
  type Json,
} from '../bench-kit.ts';
import {
  isScored,
  recallAtK,
  summarizeRecall,
  type LocomoQuestion,
  type RecallRow,
} from '../locomo.ts';
import type { UserCorpus } from './corpus.ts';

export const SEARCH_LIMIT = 10;
const PROGRESS_EVERY_MS = 5000;
/** 429s one call waits out before the run gives up, as the seeding does. */
const MAX_RATE_LIMITED = 30;

/**
 * The context depths asked besides the default (2: simple messages take the
 * fast path, the others are planned): 1 always takes the fast path (the
 * classifier's plan, 5 memories), 3 always plans (15 memories).
 */
export const PATH_DEPTHS = { fast: 1, planned: 3 } as const;

export interface ContextAnswer {
  at5: number;
  at10: number;
  ms: number;
  results: number;
  source: string;
  modelCalls: number;
}

export interface QuestionResult extends LocomoQuestion {
  conversation: string;
  search: { at5: number; at10: number; ms: number; results: number };
  /** 429s met asking this question's four calls: waited out, and left out of their times. */
  rateLimited: number;
  /** Partial answers (or whole timeouts) met asking its four calls, each asked again. */
  incomplete: number;
  /** `/v1/context` at its default depth (2). */
  context: ContextAnswer;
  /** At depth 1 (the fast path) and 3 (the planned path). */
  paths: Record<keyof typeof PATH_DEPTHS, ContextAnswer>;
}

/** How often a call whose answer was partial (or timed out whole) is made again. */
const MAX_INCOMPLETE = 3;
/** How long a call that found the database unavailable waits before it is made again. */
const UNAVAILABLE_WAIT_MS = 2000;

/**
 * Errors of a machine that stopped answering for a while and is waited for:
 * the database (its connections timed out), or the whole product, paused
 * under someone else's load, so the client's own deadline passed or the
 * connection was dropped.
 */
const UNAVAILABLE = ['dependency_unavailable', 'client_timeout', 'network_error'] as const;

export type Tally = { rateLimited: number; incomplete: number };

/**
 * One call and the wall time of the request that was answered. A 429 is
 * counted in `tally`, waited out as it asks and the call made again: the
 * concurrent questions of one user outrun its rate limit at times, and a wait
 * on the limiter is not the endpoint's latency. An answer that says it is
 * partial (`degraded`: a retriever or strategy missed its deadline on a busy
 * machine), a search that timed out whole, or a database that stopped
 * answering for a while (a machine paused under load: its connections time
 * out, or the client's deadline passes; see {@link UNAVAILABLE}) is counted
 * and asked again a few times, so recall measures retrieval,
 * not the machine's load; the last answer stands. Any other error ends the run.
 */
export async function timed<T extends { degraded: unknown[] }>(
  call: () => Promise<T>,
  tally: Tally,
  unavailableWaitMs: number = UNAVAILABLE_WAIT_MS,
) {
  for (let limited = 0, incomplete = 0; ;) {
    const t0 = performance.now();
    try {
      const value = await call();
      const ms = roundTo(performance.now() - t0);
      if (value.degraded.length === 0 || incomplete >= MAX_INCOMPLETE) return { value, ms };
      incomplete++;
      tally.incomplete++;
    } catch (error) {
      const unavailable = UNAVAILABLE.some((code) => isMemoryEngineError(error, code));
      if ((unavailable || isMemoryEngineError(error, 'timeout')) && incomplete < MAX_INCOMPLETE) {
        incomplete++;
        tally.incomplete++;
        if (unavailable) await sleep(unavailableWaitMs);
        continue;
      }
      if (!isMemoryEngineError(error, 'rate_limited') || limited >= MAX_RATE_LIMITED) throw error;
      limited++;
      tally.rateLimited++;
      await sleep(error.retryAfterMs ?? 1000);
    }
  }
}

async function askContext(
  url: string,
  user: UserCorpus,
  q: LocomoQuestion,
  tally: Tally,
  depth?: 1 | 3,
): Promise<ContextAnswer> {
  const client = userClient(url, user.key);
  const { value: context, ms } = await timed(
    () => client.context({ message: q.question, ...(depth === undefined ? {} : { depth }) }),
    tally,
  );
  const hits = context.memories.map((m) => user.diaIds.get(m.id) ?? []);
  return {
    at5: recallAtK(q.evidence, hits, 5),
    at10: recallAtK(q.evidence, hits, 10),
    ms,
    results: hits.length,
    source: context.plan.source,
    modelCalls: context.model_calls,
  };
}

async function askQuestion(
  url: string,
  user: UserCorpus,
  q: LocomoQuestion,
): Promise<QuestionResult> {
  const tally: Tally = { rateLimited: 0, incomplete: 0 };
  const client = userClient(url, user.key);
  const search = await timed(
    () => client.search({ query: q.question, limit: SEARCH_LIMIT }),
    tally,
  );
  const searchHits = search.value.results.map((m) => user.diaIds.get(m.id) ?? []);
  const context = await askContext(url, user, q, tally);
  const fast = await askContext(url, user, q, tally, PATH_DEPTHS.fast);
  const planned = await askContext(url, user, q, tally, PATH_DEPTHS.planned);
  return {
    ...q,
    conversation: user.conversation.id,
    search: {
      at5: recallAtK(q.evidence, searchHits, 5),
      at10: recallAtK(q.evidence, searchHits, 10),
      ms: search.ms,
      results: searchHits.length,
    },
    rateLimited: tally.rateLimited,
    incomplete: tally.incomplete,
    context,
    paths: { fast, planned },
  };
}

/** Every scored question of every user, `concurrency` at a time, in dataset order. */
export async function askAll(
  url: string,
  users: UserCorpus[],
  concurrency: number,
  log: (message: string) => void,
): Promise<QuestionResult[]> {
  const jobs = users
    .flatMap((user) => user.conversation.questions.filter(isScored).map((q) => ({ user, q })))
    .map((job, index) => ({ ...job, index }));
  // Filled by index, so the report keeps dataset order whatever finishes first.
  const results: QuestionResult[] = new Array<QuestionResult>(jobs.length);
  let answered = 0;
  let lastLog = Date.now();
  await mapLimit(jobs, concurrency, async ({ user, q, index }) => {
    checkInterrupted();
    results[index] = await askQuestion(url, user, q);
    answered++;
    if (Date.now() - lastLog >= PROGRESS_EVERY_MS || answered === jobs.length) {
      lastLog = Date.now();
      log(`questions: ${answered}/${jobs.length}`);
    }
  });
  return results;
}

/** Recall, latency and plan sources of both endpoints over all questions. */
export function analyse(results: QuestionResult[]) {
  const rows = (pick: (r: QuestionResult) => { at5: number; at10: number }): RecallRow[] =>
    results.map((r) => ({ category: r.category, ...pick(r) }));
  const bySource: Record<string, Json> = {};
  for (const source of [...new Set(results.map((r) => r.context.source))].sort()) {
    const rs = results.filter((r) => r.context.source === source);
    bySource[source] = {
      ...summarizeRecall(rs.map((r) => ({ category: r.category, ...r.context }))).overall,
      latencyMs: summarizeMs(rs.map((r) => r.context.ms)),
    };
  }
  const returned = results.map((r) => r.context.results);
  const path = (which: keyof typeof PATH_DEPTHS) => ({
    depth: PATH_DEPTHS[which],
    recall: summarizeRecall(rows((r) => r.paths[which])),
    latencyMs: summarizeMs(results.map((r) => r.paths[which].ms)),
    memoriesReturned: roundTo(results.reduce((s, r) => s + r.paths[which].results, 0) / (results.length || 1)), // prettier-ignore
  });
  return {
    search: {
      recall: summarizeRecall(rows((r) => r.search)),
      latencyMs: summarizeMs(results.map((r) => r.search.ms)),
    },
    context: {
      recall: summarizeRecall(rows((r) => r.context)),
      latencyMs: summarizeMs(results.map((r) => r.context.ms)),
      bySource,
      modelCalls: results.reduce((s, r) => s + r.context.modelCalls, 0),
      paths: { fast: path('fast'), planned: path('planned') },
      memoriesReturned: {
        mean: roundTo(returned.reduce((s, v) => s + v, 0) / (returned.length || 1)),
        max: Math.max(0, ...returned),
      },
    },
    /** 429s waited out over all calls, left out of the latencies. */
    rateLimited: results.reduce((s, r) => s + r.rateLimited, 0),
    /** Partial answers, whole timeouts and unavailable databases asked again (see `timed`). */
    incomplete: results.reduce((s, r) => s + r.incomplete, 0),
  };
}
