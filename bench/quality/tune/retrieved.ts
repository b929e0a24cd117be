// Each retriever's answer to every scored question, computed once through the product's
// retrieval functions (the search path: one query, a pool of 30; and the context path's
// strategies, context-retrieved.ts) and kept, with what the fusion sweep needs to score a
// fused list, so the sweep never touches a store again.
import fs from 'node:fs';
import type { RankedList } from '../../../core/retrieval/fusion.ts';
import {
  entityGraphLists,
  lexicalList,
  ofNamedTime,
  vectorList,
  type RetrievalQuery,
} from '../../../core/retrieval/hybrid.ts';
import {
  memoryTime,
  parseQueryTime,
  type MemoryTime,
  type QueryTime,
} from '../../../core/retrieval/time-signal.ts';
import { checkInterrupted, mapLimit } from '../../bench-kit.ts';
import { isScored } from '../../locomo.ts';
import { retrieveContext, type ContextRetrieved } from './context-retrieved.ts';
import type { TuneStack } from './stack.ts';

/** `/v1/search`'s pool for its default limit of 10: `max(limit * 3, 20)` candidates per retriever. */
export const SEARCH_POOL = 30;
/**
 * How deep vector and full-text answers are kept: the search's own lists are
 * their first {@link SEARCH_POOL} (both order ties by id, so a deeper search
 * starts with the shallower one), the time signal may look deeper.
 */
export const KEPT_POOL = 150;
/** How many of the memories of the time a question names are kept (the sweep's deepest span pool). */
export const KEPT_SPAN_POOL = 60;

/** One question and what each retriever found for it (ids in rank order). */
export interface RetrievedQuestion {
  conversation: string;
  category: number;
  question: string;
  evidence: string[];
  /** The {@link KEPT_POOL} nearest by meaning, best first. */
  vector: string[];
  /** The {@link KEPT_POOL} best by BM25. */
  lexical: string[];
  /** The {@link KEPT_SPAN_POOL} nearest by meaning of the time it names (none if it names none). */
  ofTheTime: string[];
  /** The graph's lists at weight 1 (hop-1 at ½): the sweep scales them. */
  graph: RankedList[];
  /** What `/v1/context` retrieves for it (absent from sets saved before the context path was swept). */
  context?: ContextRetrieved;
  asked: QueryTime;
}

/** A memory as the set keeps it: its turns, and what the time signal reads of it. */
export interface RetrievedMemory {
  diaIds: string[];
  content: string;
  createdAt: string;
  occurredAt: string | null;
  /** Its time as this checkout's time signal reads it (computed on load, not saved). */
  time: MemoryTime;
}

/**
 * Everything the sweep reads: the questions, and per conversation its
 * memories' turns and times. Times, the memories' and the questions', are
 * read again on load, so a `--cache` sweep scores this checkout's time
 * signal (its candidates stay those retrieved when the set was saved).
 */
export interface RetrievedSet {
  embedder: string;
  /** When the questions were asked: "last year" in a question is read against it. */
  askedAt: string;
  questions: RetrievedQuestion[];
  memories: Record<string, Record<string, RetrievedMemory>>;
}

/** Asks every scored question of every user once, `concurrency` at a time. */
export async function retrieveAll(
  stack: TuneStack,
  concurrency: number,
  log: (message: string) => void,
): Promise<RetrievedSet> {
  const askedAt = Date.now();
  const jobs = stack.users.flatMap((user) =>
    user.conversation.questions.filter(isScored).map((q) => ({ user, q })),
  );
  let done = 0;
  // Filled by index, so the set keeps dataset order whatever finishes first.
  const questions: RetrievedQuestion[] = new Array<RetrievedQuestion>(jobs.length);
  const indexed = jobs.map((job, index) => ({ ...job, index }));
  await mapLimit(indexed, concurrency, async ({ user, q, index }) => {
    checkInterrupted();
    const query: RetrievalQuery = { userId: user.userId, query: q.question, pool: SEARCH_POOL };
    const deep = { ...query, pool: KEPT_POOL };
    const [vector, lexical, ofTheTime, graph, context] = await Promise.all([
      vectorList(stack.deps, deep),
      lexicalList(stack.deps, deep),
      ofNamedTime(stack.deps, deep, KEPT_SPAN_POOL),
      entityGraphLists(stack.deps, query, 1),
      retrieveContext(stack.deps, user.userId, q.question),
    ]);
    if (++done % 200 === 0) log(`retrieved ${done}/${jobs.length} questions`);
    questions[index] = {
      conversation: user.conversation.id,
      category: q.category,
      question: q.question,
      evidence: q.evidence,
      vector: vector.items.map((i) => i.id),
      lexical: lexical.items.map((i) => i.id),
      ofTheTime,
      graph,
      context,
      asked: parseQueryTime(q.question, askedAt),
    };
  });
  const memories: RetrievedSet['memories'] = {};
  for (const user of stack.users) {
    const own: Record<string, RetrievedMemory> = {};
    for (const [id, diaIds] of user.diaIds) {
      const memory = user.timed.get(id)!;
      own[id] = {
        diaIds,
        content: memory.content,
        createdAt: memory.createdAt.toISOString(),
        occurredAt: memory.occurredAt?.toISOString() ?? null,
        time: memoryTime(memory),
      };
    }
    memories[user.conversation.id] = own;
  }
  return {
    embedder: stack.embedder,
    askedAt: new Date(askedAt).toISOString(),
    questions,
    memories,
  };
}

export function saveRetrieved(file: string, set: RetrievedSet): void {
  const timeless = (key: string, value: unknown) => (key === 'time' || key === 'asked' ? undefined : value); // prettier-ignore
  fs.writeFileSync(file, JSON.stringify(set, timeless) + '\n');
}

/** A saved set, its times read by this checkout's time signal. */
export function loadRetrieved(file: string): RetrievedSet {
  const set = JSON.parse(fs.readFileSync(file, 'utf8')) as RetrievedSet;
  if (Object.values(set.memories).some((own) => Object.values(own).some((m) => !m.content))) {
    throw new Error(`${file} was saved before sets kept their memories' content: retrieve again`);
  }
  const askedAt = Date.parse(set.askedAt);
  for (const q of set.questions) {
    q.asked = parseQueryTime(q.question, askedAt);
    q.ofTheTime ??= []; // sets saved before the span search have none
  }
  for (const own of Object.values(set.memories)) {
    for (const m of Object.values(own)) {
      const occurredAt = m.occurredAt === null ? null : new Date(m.occurredAt);
      m.time = memoryTime({ content: m.content, createdAt: new Date(m.createdAt), occurredAt });
    }
  }
  return set;
}
