// The fusion sweep: every point of a grid of fusion constants scored on every retrieved
// question (evidence recall@5/@10 of the fused top 10, as `/v1/search` returns it), and
// leave-one-conversation-out cross-validation over those scores.
import {
  fuseRankings,
  ranked,
  type FusionWeights,
  type RankedList,
} from '../../../core/retrieval/fusion.ts';
import { hasTimeIntent, namedSpan, timeListFrom } from '../../../core/retrieval/time-signal.ts';
import { recallAtK } from '../../locomo.ts';
import { SEARCH_POOL, type RetrievedQuestion, type RetrievedSet } from './retrieved.ts';

/**
 * A point of the sweep: reciprocal-rank fusion's k, the lists' weights
 * (vector is the unit) and how deep the time signal looks for candidates.
 */
export interface FusionParams {
  k: number;
  weights: FusionWeights;
  timePool: number;
  /** How many memories of the time a question names the time signal adds (0: none). */
  spanPool: number;
}

/** The grid swept: coarse on purpose, so the choice cannot fit one conversation's quirks. */
export const GRID = {
  k: [0.5, 1, 2, 3, 5, 8, 12, 20, 30, 60],
  lexical: [0.55, 0.7, 0.85, 1, 1.2, 1.5],
  graph: [0, 0.1, 0.25, 0.5, 1],
  time: [0, 0.25, 0.5, 1, 1.5, 2, 3, 4, 6, 8, 12],
  timePool: [75, 150],
  spanPool: [0, 30],
};

export const RESULTS = 10;

/**
 * Every point of the grid; the time signal's pools only vary where its
 * weight is not 0. Points sharing k, the lexical weight and the time pools
 * come one after another: they share their time lists (see {@link fusedTop}).
 */
export function gridPoints(grid = GRID): FusionParams[] {
  const pools = grid.timePool.flatMap((timePool) =>
    grid.spanPool.map((spanPool) => ({ timePool, spanPool })),
  );
  return grid.k.flatMap((k) =>
    grid.lexical.flatMap((lexical) =>
      pools.flatMap((pool, p) =>
        grid.graph.flatMap((graph) =>
          grid.time
            .filter((time) => time > 0 || p === 0)
            .map((time) => ({ k, weights: { vector: 1, lexical, graph, time }, ...pool })),
        ),
      ),
    ),
  );
}

/**
 * The time lists at weight 1 of the last (k, vector and lexical weights,
 * time pool) asked, by question: the time list does not depend on the
 * other constants, and the grid's points sharing these come together.
 */
const timeLists = { key: '', byQuestion: new Map<RetrievedQuestion, RankedList>() };

/** A retriever's first `pool` ids as a list of `weight`. */
export const list = (source: string, weight: number, ids: string[], pool: number): RankedList => ({
  source,
  weight,
  items: ranked(ids.slice(0, pool)),
});

/** The time signal's list at weight 1 for a question under `params` (see {@link timeLists}). */
export function timeListOf(
  set: RetrievedSet,
  q: RetrievedQuestion,
  params: FusionParams,
): RankedList {
  const { weights, timePool, spanPool } = params;
  const key = `${params.k}|${weights.vector}|${weights.lexical}|${timePool}|${spanPool}`;
  if (timeLists.key !== key) {
    timeLists.key = key;
    timeLists.byQuestion.clear();
  }
  let time = timeLists.byQuestion.get(q);
  if (!time) {
    const own = set.memories[q.conversation]!;
    const found = [
      list('vector', weights.vector, q.vector, timePool),
      list('lexical', weights.lexical, q.lexical, timePool),
      // Kept as retrieved; this checkout's reading of the question says whether it names a span.
      list('vector', weights.vector, namedSpan(q.asked) ? q.ofTheTime : [], spanPool),
    ];
    time = timeListFrom(q.asked, found, (id) => own[id]?.time, { k: params.k, weights: { time: 1 } }); // prettier-ignore
    timeLists.byQuestion.set(q, time);
  }
  return time;
}

/** The ids `/v1/search` would return for a question under `params`, best first. */
export function fusedTop(set: RetrievedSet, q: RetrievedQuestion, params: FusionParams): string[] {
  const { weights } = params;
  const lists = [
    list('vector', weights.vector, q.vector, SEARCH_POOL),
    list('lexical', weights.lexical, q.lexical, SEARCH_POOL),
    ...q.graph.map((l) => ({ ...l, weight: l.weight * weights.graph })),
  ];
  if (weights.time > 0 && hasTimeIntent(q.asked)) {
    lists.push({ ...timeListOf(set, q, params), weight: weights.time });
  }
  return fuseRankings(lists, params.k)
    .slice(0, RESULTS)
    .map((hit) => hit.id);
}

/** Recall@5 and @10 of every question under one point, in question order. */
export function scorePoint(set: RetrievedSet, params: FusionParams) {
  const at5 = new Float64Array(set.questions.length);
  const at10 = new Float64Array(set.questions.length);
  set.questions.forEach((q, i) => {
    const own = set.memories[q.conversation]!;
    const hits = fusedTop(set, q, params).map((id) => own[id]?.diaIds ?? []);
    at5[i] = recallAtK(q.evidence, hits, 5);
    at10[i] = recallAtK(q.evidence, hits, 10);
  });
  return { at5, at10 };
}

export type PointScores = ReturnType<typeof scorePoint>;

/** Mean of `values` over the questions `keep` admits. */
export function meanOver(values: Float64Array, keep: (i: number) => boolean): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    if (keep(i)) {
      sum += values[i]!;
      n++;
    }
  }
  return n === 0 ? 0 : sum / n;
}

/**
 * The point with the best mean recall@10 over the questions `keep` admits
 * (ties: better @5, then the earlier grid point).
 */
export function bestPoint(scores: readonly PointScores[], keep: (i: number) => boolean): number {
  let best = 0;
  let bestAt10 = -1;
  let bestAt5 = -1;
  scores.forEach((s, p) => {
    const at10 = meanOver(s.at10, keep);
    const at5 = meanOver(s.at5, keep);
    if (at10 > bestAt10 + 1e-12 || (Math.abs(at10 - bestAt10) <= 1e-12 && at5 > bestAt5)) {
      best = p;
      bestAt10 = at10;
      bestAt5 = at5;
    }
  });
  return best;
}

/** One fold of leave-one-conversation-out: what was chosen without the conversation, and how it did on it. */
export interface Fold {
  heldOut: string;
  questions: number;
  chosen: number;
  trainAt10: number;
  /** The held-out questions' indexes in the set. */
  held: number[];
  /** Per held-out question, recall@5/@10 under the fold's choice. */
  heldOutAt5: number[];
  heldOutAt10: number[];
}

/** Leave-one-conversation-out over the questions' conversations, choosing among `candidates` (point indexes). */
export function crossValidate(
  set: RetrievedSet,
  scores: readonly PointScores[],
  candidates: readonly number[],
): Fold[] {
  const conversations = [...new Set(set.questions.map((q) => q.conversation))];
  return conversations.map((heldOut) => {
    const train = (i: number) => set.questions[i]!.conversation !== heldOut;
    const pick = bestPoint(
      candidates.map((c) => scores[c]!),
      train,
    );
    const chosen = candidates[pick]!;
    const held = set.questions.flatMap((q, i) => (q.conversation === heldOut ? [i] : []));
    return {
      heldOut,
      questions: held.length,
      chosen,
      trainAt10: meanOver(scores[chosen]!.at10, train),
      held,
      heldOutAt5: held.map((i) => scores[chosen]!.at5[i]!),
      heldOutAt10: held.map((i) => scores[chosen]!.at10[i]!),
    };
  });
}
