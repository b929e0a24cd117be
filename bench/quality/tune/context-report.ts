// The context path's part of the tuning report: the recent weight each fold chose with its
// search constants and how the held-out conversation's contexts did, the pooled held-out
// figures against the weight in use, each weight on all conversations, and how closely the
// sweep's model of the context reproduces what the product's strategies fused.
import { roundTo, type Json } from '../../bench-kit.ts';
import { CONTEXT_LIMIT } from './context-retrieved.ts';
import {
  contextScorer,
  contextTop,
  crossValidateContext,
  RECENT_GRID,
  type ContextFold,
} from './context-sweep.ts';
import { paramsText, pooled, recallOf, recallTable } from './report.ts';
import type { RetrievedSet } from './retrieved.ts';
import { bestPoint, type Fold, type FusionParams, type PointScores } from './sweep.ts';

export interface ContextTuneInput {
  set: RetrievedSet;
  points: FusionParams[];
  /** The search path's folds (with time signal): each fold's context uses its constants. */
  folds: Fold[];
  /** The search point chosen on all conversations. */
  final: number;
  scorer: (point: number) => PointScores[];
  inUse: { params: FusionParams; recentWeight: number; scores: PointScores };
}

const r3 = (v: number) => roundTo(v, 3);
const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / (xs.length || 1);

function foldRows(input: ContextTuneInput, folds: ContextFold[], fixed: ContextFold[]) {
  const { set, points } = input;
  return folds.map((f, n) => {
    const temporal = f.held.flatMap((i, j) => (set.questions[i]!.category === 2 ? [j] : []));
    return {
      heldOut: f.heldOut,
      questions: f.questions,
      search: points[f.chosen]!,
      recentWeight: f.recentWeight,
      trainAt10: r3(f.trainAt10),
      heldOutAt10: r3(mean(f.heldOutAt10)),
      heldOutAt5: r3(mean(f.heldOutAt5)),
      heldOutTemporalAt10: r3(mean(temporal.map((j) => f.heldOutAt10[j]!))),
      fixedAt10: r3(mean(fixed[n]!.heldOutAt10)),
    };
  });
}

/** The context path's report JSON. */
export function contextReport(input: ContextTuneInput) {
  const { set, points, folds, final, scorer, inUse } = input;
  const chosenFolds = crossValidateContext(set, folds, scorer, RECENT_GRID);
  const fixed = [inUse.recentWeight];
  const fixedFolds = crossValidateContext(set, folds, contextScorer(set, points, fixed), fixed);
  const atFinal = scorer(final);
  const pick = bestPoint(atFinal, () => true);
  const cv = { chosen: pooled(set, chosenFolds), fixed: pooled(set, fixedFolds) };
  // A new weight ships only when choosing it beat the weight in use on held-out conversations.
  const gain = cv.chosen.overall.at10 - cv.fixed.overall.at10;
  const same = set.questions.filter(
    (q) => contextTop(set, q, inUse.params, inUse.recentWeight).join() === q.context!.inUse.join(),
  ).length;
  return {
    limit: CONTEXT_LIMIT,
    grid: RECENT_GRID,
    folds: foldRows(input, chosenFolds, fixedFolds),
    crossValidated: {
      chosen: cv.chosen,
      fixed: { recentWeight: inUse.recentWeight, recall: cv.fixed },
      gain: r3(gain),
    },
    chosen: {
      /** Best on all conversations; `toShip` keeps the weight in use unless choosing beat it. */
      recentWeight: RECENT_GRID[pick]!,
      toShip: gain > 0 ? RECENT_GRID[pick]! : inUse.recentWeight,
      search: points[final]!,
      byWeight: RECENT_GRID.map((w, i) => ({
        recentWeight: w,
        recall: recallOf(set, atFinal[i]!.at5, atFinal[i]!.at10),
      })),
    },
    inUse: {
      params: inUse.params,
      recentWeight: inUse.recentWeight,
      recall: recallOf(set, inUse.scores.at5, inUse.scores.at10),
      reproduced: { questions: same, of: set.questions.length },
    },
  };
}

/** The context path's section of the Markdown report. */
export function contextMarkdown(c: Json): string[] {
  const out = [
    `## Context path (\`/v1/context\`, default depth: ${c.limit} memories)`,
    '',
    `The context fuses each plan query's vector and full-text lists (pool 16), the graph, the time signal of its first query and the user's latest memories (\`recent\`), with the search's k and weights. ` +
      `In each fold, with the search constants that fold chose, the recent weight ∈ {${c.grid.join(', ')}} best on the other conversations' contexts (@10, which counts the ${c.limit} returned) is scored on the held-out one.`,
    '',
    ...recallTable([
      ['context, cross-validated, recent weight chosen per fold', c.crossValidated.chosen],
      [`context, cross-validated, recent weight held at ${c.crossValidated.fixed.recentWeight}`, c.crossValidated.fixed.recall], // prettier-ignore
      [`context in use when run (${paramsText(c.inUse.params)}, recent ${c.inUse.recentWeight})`, c.inUse.recall], // prettier-ignore
    ]),
    `The sweep's model of the context reproduced the product's own fused hits (constants in use, as retrieved) for ${c.inUse.reproduced.questions} of ${c.inUse.reproduced.of} questions.`,
    '',
    '| held out | questions | search constants (the fold\'s) | recent weight chosen | train @10 | held-out @10 | held-out @5 | held-out temporal @10 | held-out @10 at the weight in use |', // prettier-ignore
    '|---|---|---|---|---|---|---|---|---|',
    ...c.folds.map((f: Json) => `| ${f.heldOut} | ${f.questions} | ${paramsText(f.search)} | ${f.recentWeight} | ${f.trainAt10} | **${f.heldOutAt10}** | ${f.heldOutAt5} | ${f.heldOutTemporalAt10} | ${f.fixedAt10} |`), // prettier-ignore
    '',
    `Best on all conversations (with the search constants chosen on all): recent ${c.chosen.recentWeight}. ` +
      `Choosing per fold changed held-out recall@10 by ${c.crossValidated.gain} against the weight in use: ` +
      `**recent weight to ship: ${c.chosen.toShip}** (a new weight ships only if choosing it gained held out). In-sample, by weight:`,
    '',
    ...recallTable(c.chosen.byWeight.map((b: Json) => [`recent ${b.recentWeight}`, b.recall])),
  ];
  return out;
}
