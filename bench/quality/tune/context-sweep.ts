// The context path in the sweep: `/v1/context`'s hits at its default depth under a point
// of the search grid and a weight of its `recent` list, scored on the context's own output,
// and leave-one-conversation-out cross-validation of that weight nested in the folds that
// chose the search constants (the two share k and the retrievers' weights in the product).
import { fuseRankings, type RankedList } from '../../../core/retrieval/fusion.ts';
import { hasTimeIntent } from '../../../core/retrieval/time-signal.ts';
import { recallAtK } from '../../locomo.ts';
import { CONTEXT_LIMIT } from './context-retrieved.ts';
import type { RetrievedQuestion, RetrievedSet } from './retrieved.ts';
import {
  bestPoint,
  list,
  meanOver,
  timeListOf,
  type Fold,
  type FusionParams,
  type PointScores,
} from './sweep.ts';

/** The recent list's weights swept: coarse, like the search grid. */
export const RECENT_GRID = [0, 0.05, 0.1, 0.2, 0.3, 0.5];

/** Whether every question of a set carries its context-path lists (sets saved before do not). */
export const hasContext = (set: RetrievedSet) => set.questions.every((q) => q.context);

/**
 * The ids `/v1/context` (default depth) would return for a question under
 * `params` with its recent list at `recentWeight`, best first: each plan
 * query's vector and full-text lists, the graph, the recent list and, for a
 * question about time, the time signal of its first query (the search's own).
 */
export function contextTop(
  set: RetrievedSet,
  q: RetrievedQuestion,
  params: FusionParams,
  recentWeight: number,
): string[] {
  const c = q.context;
  if (!c) throw new Error(`no context-path lists for "${q.question}": retrieve again`);
  const { weights } = params;
  const lists: RankedList[] = [
    ...c.vector.map((ids) => list('vector', weights.vector, ids, ids.length)),
    ...c.lexical.map((ids) => list('lexical', weights.lexical, ids, ids.length)),
    ...c.graph.map((l) => ({ ...l, weight: l.weight * weights.graph })),
    list('recent', recentWeight, c.recent, c.recent.length),
  ];
  if (weights.time > 0 && hasTimeIntent(q.asked)) {
    lists.push({ ...timeListOf(set, q, params), weight: weights.time });
  }
  return fuseRankings(lists, params.k)
    .slice(0, CONTEXT_LIMIT)
    .map((hit) => hit.id);
}

/**
 * Recall@5 and @10 of every question's context (as `bench:quality` counts
 * them: @10 counts the {@link CONTEXT_LIMIT} it returns), in question order.
 */
export function scoreContext(set: RetrievedSet, params: FusionParams, recentWeight: number) {
  const at5 = new Float64Array(set.questions.length);
  const at10 = new Float64Array(set.questions.length);
  set.questions.forEach((q, i) => {
    const own = set.memories[q.conversation]!;
    const hits = contextTop(set, q, params, recentWeight).map((id) => own[id]?.diaIds ?? []);
    at5[i] = recallAtK(q.evidence, hits, 5);
    at10[i] = recallAtK(q.evidence, hits, 10);
  });
  return { at5, at10 };
}

/** A context fold: the search fold's point (`chosen`) and the recent weight best with it on the other conversations. */
export interface ContextFold extends Fold {
  recentWeight: number;
}

/** Per search point asked, the context scores under each recent weight of `grid` (in its order). */
export function contextScorer(set: RetrievedSet, points: readonly FusionParams[], grid: readonly number[]) {
  const byPoint = new Map<number, PointScores[]>();
  return (point: number): PointScores[] => {
    let scores = byPoint.get(point);
    if (!scores) {
      scores = grid.map((w) => scoreContext(set, points[point]!, w));
      byPoint.set(point, scores);
    }
    return scores;
  };
} // prettier-ignore

/**
 * Leave-one-conversation-out for the recent weight: in each of the search's
 * folds, with the constants it chose without the held-out conversation, the
 * weight of `grid` whose contexts recall best (@10, then @5) on the other
 * conversations, scored on the held-out one.
 */
export function crossValidateContext(
  set: RetrievedSet,
  folds: readonly Fold[],
  scorer: (point: number) => PointScores[],
  grid: readonly number[],
): ContextFold[] {
  return folds.map((fold) => {
    const train = (i: number) => set.questions[i]!.conversation !== fold.heldOut;
    const scores = scorer(fold.chosen);
    if (scores.length !== grid.length) throw new Error('the scorer must score the weights of the grid'); // prettier-ignore
    const pick = bestPoint(scores, train);
    const chosen = scores[pick]!;
    return {
      ...fold,
      recentWeight: grid[pick]!,
      trainAt10: meanOver(chosen.at10, train),
      heldOutAt5: fold.held.map((i) => chosen.at5[i]!),
      heldOutAt10: fold.held.map((i) => chosen.at10[i]!),
    };
  });
}
