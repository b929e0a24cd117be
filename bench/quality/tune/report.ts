// The fusion tuning's report: per-fold choices and held-out recall, the pooled
// cross-validated figures (with and without the time signal), the constants chosen
// on all conversations, and the constants in use and plain RRF beside them.
import { machineInfo, roundTo, type Json } from '../../bench-kit.ts';
import { CATEGORY_NAMES, summarizeRecall } from '../../locomo.ts';
import type { RetrievedSet } from './retrieved.ts';
import {
  bestPoint,
  GRID,
  meanOver,
  RESULTS,
  type Fold,
  type FusionParams,
  type PointScores,
} from './sweep.ts';

export interface TuneInput {
  set: RetrievedSet;
  points: FusionParams[];
  scores: PointScores[];
  folds: Fold[];
  foldsWithoutTime: Fold[];
  inUse: { params: FusionParams; scores: PointScores };
  plain: { params: FusionParams; scores: PointScores };
  meta: { startedAt: Date; command: string | null; data: string | null; cache: string | null };
}

const r3 = (v: number) => roundTo(v, 3);

/** Recall over the questions `indexes` names, overall and per category. */
export function recallOf(set: RetrievedSet, at5: ArrayLike<number>, at10: ArrayLike<number>, indexes?: number[]) {
  const which = indexes ?? set.questions.map((_, i) => i);
  return summarizeRecall(
    which.map((i, j) => ({
      category: set.questions[i]!.category,
      at5: indexes ? at5[j]! : at5[i]!,
      at10: indexes ? at10[j]! : at10[i]!,
    })),
  );
} // prettier-ignore

/** The pooled held-out figures of a cross-validation: each question scored by its fold's choice. */
export function pooled(set: RetrievedSet, folds: Fold[]) {
  const held = folds.flatMap((f) => f.held);
  return recallOf(set, folds.flatMap((f) => f.heldOutAt5), folds.flatMap((f) => f.heldOutAt10), held); // prettier-ignore
}

function foldRows(input: TuneInput, folds: Fold[]) {
  const { set, points, plain, inUse } = input;
  return folds.map((f) => {
    const on = (i: number) => set.questions[i]!.conversation === f.heldOut;
    const temporal = f.held.map((i, j) => ({ i, j })).filter(({ i }) => set.questions[i]!.category === 2); // prettier-ignore
    const mean = (xs: number[]) => xs.reduce((s, v) => s + v, 0) / (xs.length || 1);
    return {
      heldOut: f.heldOut,
      questions: f.questions,
      chosen: points[f.chosen]!,
      trainAt10: r3(f.trainAt10),
      heldOutAt10: r3(mean(f.heldOutAt10)),
      heldOutAt5: r3(mean(f.heldOutAt5)),
      heldOutTemporalAt10: r3(mean(temporal.map(({ j }) => f.heldOutAt10[j]!))),
      plainAt10: r3(meanOver(plain.scores.at10, on)),
      inUseAt10: r3(meanOver(inUse.scores.at10, on)),
    };
  });
}

/** The report's JSON; `meta.seconds` is left for the caller to set last. */
export function tuneReport(input: TuneInput) {
  const { set, points, scores } = input;
  const all = () => true;
  const final = bestPoint(scores, all);
  const finalWithoutTime = bestPoint(
    scores.map((s, i) => (points[i]!.weights.time === 0 ? s : { at5: s.at5.map(() => -1), at10: s.at10.map(() => -1) })), // prettier-ignore
    all,
  );
  const ranking = scores
    .map((s, i) => ({ i, at10: meanOver(s.at10, all), at5: meanOver(s.at5, all) }))
    .sort((a, b) => b.at10 - a.at10 || b.at5 - a.at5)
    .slice(0, 10)
    .map(({ i, at10, at5 }) => ({ params: points[i]!, at5: r3(at5), at10: r3(at10) }));
  const { cpus, cpuModel, node } = machineInfo();
  return {
    meta: {
      ...input.meta,
      startedAt: input.meta.startedAt.toISOString(),
      embedder: set.embedder,
      askedAt: set.askedAt,
      results: RESULTS,
      grid: GRID,
      machine: { cpus, cpuModel, node },
      seconds: 0,
    },
    dataset: {
      conversations: [...new Set(set.questions.map((q) => q.conversation))],
      questions: set.questions.length,
    },
    folds: foldRows(input, input.folds),
    foldsWithoutTime: foldRows(input, input.foldsWithoutTime),
    crossValidated: {
      withTime: pooled(set, input.folds),
      withoutTime: pooled(set, input.foldsWithoutTime),
    },
    chosen: {
      params: points[final]!,
      inSample: recallOf(set, scores[final]!.at5, scores[final]!.at10),
      withoutTime: {
        params: points[finalWithoutTime]!,
        inSample: recallOf(set, scores[finalWithoutTime]!.at5, scores[finalWithoutTime]!.at10),
      },
    },
    inUse: { params: input.inUse.params, recall: recallOf(set, input.inUse.scores.at5, input.inUse.scores.at10) }, // prettier-ignore
    plain: { params: input.plain.params, recall: recallOf(set, input.plain.scores.at5, input.plain.scores.at10) }, // prettier-ignore
    top: ranking,
  };
}

export const paramsText = (p: Json) =>
  `k ${p.k}, lexical ${p.weights.lexical}, graph ${p.weights.graph}, time ${p.weights.time}` +
  (p.weights.time > 0 ? ` (pool ${p.timePool}, span pool ${p.spanPool ?? 0})` : '');

export function recallTable(rows: [string, Json][]): string[] {
  const cats = [1, 2, 3, 4].filter((c) => rows.some(([, r]) => r.byCategory[String(c)]));
  const out = [
    `| constants | ${cats.map((c) => `${c} ${CATEGORY_NAMES[c]} @10`).join(' | ')} | overall @5 | overall @10 |`,
    `|---|${cats.map(() => '---|').join('')}---|---|`,
  ];
  for (const [label, r] of rows) {
    const byCat = cats.map((c) => r.byCategory[String(c)]?.at10 ?? '–').join(' | ');
    out.push(`| ${label} | ${byCat} | ${r.overall.at5} | **${r.overall.at10}** |`);
  }
  return [...out, ''];
}

function foldTable(title: string, rows: Json[]): string[] {
  const out = [`### ${title}`, ''];
  out.push('| held out | questions | chosen on the other conversations | train @10 | held-out @10 | held-out @5 | held-out temporal @10 | plain RRF @10 | in use @10 |'); // prettier-ignore
  out.push('|---|---|---|---|---|---|---|---|---|');
  for (const f of rows) {
    out.push(`| ${f.heldOut} | ${f.questions} | ${paramsText(f.chosen)} | ${f.trainAt10} | **${f.heldOutAt10}** | ${f.heldOutAt5} | ${f.heldOutTemporalAt10} | ${f.plainAt10} | ${f.inUseAt10} |`); // prettier-ignore
  }
  return [...out, ''];
}

export function tuneMarkdown(report: Json): string {
  const m = report.meta;
  const out = [`# Fusion tuning (leave-one-conversation-out) — ${m.startedAt}`, ''];
  if (m.command) out.push(`Command: \`${m.command}\``, '');
  out.push(
    `Data: \`${m.data}\` — ${report.dataset.conversations.length} conversations (${report.dataset.conversations.join(', ')}), ` +
      `${report.dataset.questions} scored questions. Retrievers: ${m.embedder} (pgvector in PGlite), ` +
      `PostgreSQL full-text BM25, the entity graph, the time signal; the search path (pool 30, top ${m.results}). ` +
      `${m.cache ? `Retrieved answers read from \`${m.cache}\`. ` : ''}` +
      `Machine: ${m.machine.cpus} × ${m.machine.cpuModel}, Node ${m.machine.node}. Total ${m.seconds} s.`,
    '',
    `Grid: k ∈ {${m.grid.k.join(', ')}}, lexical ∈ {${m.grid.lexical.join(', ')}}, graph ∈ {${m.grid.graph.join(', ')}}, ` +
      `time ∈ {${m.grid.time.join(', ')}} with its pool ∈ {${m.grid.timePool.join(', ')}} and span pool ∈ {${m.grid.spanPool.join(', ')}} (vector 1). A fold chooses the point with the best mean recall@10 on the other conversations' questions.`, // prettier-ignore
    '',
    '## Held-out recall (what to expect on unseen conversations)',
    '',
    ...recallTable([
      ['cross-validated, with time signal', report.crossValidated.withTime],
      ['cross-validated, without time signal', report.crossValidated.withoutTime],
      [`plain RRF (${paramsText(report.plain.params)})`, report.plain.recall],
      [`in use when run (${paramsText(report.inUse.params)})`, report.inUse.recall],
    ]),
    ...foldTable('Folds', report.folds),
    ...foldTable('Folds, time weight held at 0', report.foldsWithoutTime),
    '## Chosen on all conversations (the constants to ship)',
    '',
    `**${paramsText(report.chosen.params)}**; without the time signal: ${paramsText(report.chosen.withoutTime.params)}. In-sample (optimistic):`,
    '',
    ...recallTable([
      ['chosen', report.chosen.inSample],
      ['chosen without time', report.chosen.withoutTime.inSample],
    ]),
    '## Best ten points on all conversations (in-sample)',
    '',
    '| constants | @5 | @10 |',
    '|---|---|---|',
    ...report.top.map((t: Json) => `| ${paramsText(t.params)} | ${t.at5} | ${t.at10} |`),
    '',
  );
  return out.join('\n');
}
