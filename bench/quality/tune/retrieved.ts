// Each retriever's answer to every scored question, computed once through the product's
// retrieval functions (the search path: one query, a pool of 30) and kept, with what the
// fusion sweep needs to score a fused list, so the sweep never touches a store again.
import fs from 'node:fs';
import type { RankedList } from '../../../core/retrieval/fusion.ts';
import {
  entityGraphLists,
  lexicalList,
  vectorList,
  type RetrievalQuery,
} from '../../../core/retrieval/hybrid.ts';
import { parseQueryTime, type MemoryTime, type QueryTime } from '../../../core/retrieval/time-signal.ts'; // prettier-ignore
import { checkInterrupted, mapLimit } from '../../bench-kit.ts';
import { isScored } from '../../locomo.ts';
import type { TuneStack } from './stack.ts';

/** `/v1/search`'s pool for its default limit of 10: `max(limit * 3, 20)` candidates per retriever. */
export const SEARCH_POOL = 30;
/**
 * How deep vector and full-text answers are kept: the search's own lists are
 * their first {@link SEARCH_POOL} (both order ties by id, so a deeper search
 * starts with the shallower one), the time signal may look deeper.
 */
export const KEPT_POOL = 150;

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
  /** The graph's lists at weight 1 (hop-1 at ½): the sweep scales them. */
  graph: RankedList[];
  asked: QueryTime;
}

/** Everything the sweep reads: the questions, and per conversation its memories' turns and times. */
export interface RetrievedSet {
  embedder: string;
  /** When the questions were asked: "last year" in a question is read against it. */
  askedAt: string;
  questions: RetrievedQuestion[];
  memories: Record<string, Record<string, { diaIds: string[]; time: MemoryTime }>>;
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
    const [vector, lexical, graph] = await Promise.all([
      vectorList(stack.deps, deep),
      lexicalList(stack.deps, deep),
      entityGraphLists(stack.deps, query, 1),
    ]);
    if (++done % 200 === 0) log(`retrieved ${done}/${jobs.length} questions`);
    questions[index] = {
      conversation: user.conversation.id,
      category: q.category,
      question: q.question,
      evidence: q.evidence,
      vector: vector.items.map((i) => i.id),
      lexical: lexical.items.map((i) => i.id),
      graph,
      asked: parseQueryTime(q.question, askedAt),
    };
  });
  const memories: RetrievedSet['memories'] = {};
  for (const user of stack.users) {
    const own: Record<string, { diaIds: string[]; time: MemoryTime }> = {};
    for (const [id, diaIds] of user.diaIds) own[id] = { diaIds, time: user.times.get(id)! };
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
  fs.writeFileSync(file, JSON.stringify(set) + '\n');
}

export function loadRetrieved(file: string): RetrievedSet {
  return JSON.parse(fs.readFileSync(file, 'utf8')) as RetrievedSet;
}
