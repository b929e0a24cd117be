/**
 * Chooses the fusion's constants (reciprocal-rank k, the weights of full-text, graph
 * and time against vector) by leave-one-conversation-out cross-validation on a
 * LoCoMo-format file (the development split), with the product's own retrievers.
 *
 * Each retriever answers each scored question once (`retrieved.ts`, in this process
 * over PGlite with the configured embedder); the sweep then fuses those answers under
 * every point of a grid (`sweep.ts`). For each conversation, the point best on the
 * other conversations is scored on it: the pooled held-out recall@10 is what the
 * procedure should give on conversations it has never seen. The constants to ship are
 * the point best on all conversations. The context path (`/v1/context`'s strategies, its
 * own `recent` list) is scored the same way, its recent weight chosen in each fold with that
 * fold's constants (`context-sweep.ts`). Writes `<out>/tune-fusion-<timestamp>.{md,json}`
 * and the retrieved answers beside them (`--cache` reuses such a file).
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { RECENT_WEIGHT } from '../../../core/context/strategies.ts';
import { FUSION_WEIGHTS, RRF_K, TIME_POOL, TIME_SPAN_POOL } from '../../../core/retrieval/fusion.ts'; // prettier-ignore
import { cleanup, log as kitLog, reportBase, REPORTS_DIR, roundTo, writeReport } from '../../bench-kit.ts'; // prettier-ignore
import { loadLocomo } from '../../locomo.ts';
import { contextMarkdown, contextReport } from './context-report.ts';
import { contextScorer, hasContext, RECENT_GRID, scoreContext } from './context-sweep.ts';
import { tuneMarkdown, tuneReport } from './report.ts';
import { loadRetrieved, retrieveAll, saveRetrieved, type RetrievedSet } from './retrieved.ts';
import { openTuneStack } from './stack.ts';
import { bestPoint, crossValidate, gridPoints, scorePoint, type FusionParams } from './sweep.ts';

export interface TuneFusionOptions {
  /** A LoCoMo-format JSON file, or a directory holding `locomo-dev.json`. */
  data: string;
  /** Retrieved answers saved by an earlier run: skips indexing and retrieval. */
  cache?: string;
  limitConversations?: number;
  outDir?: string;
  /** Environment for the product's adapters (e.g. `EMBEDDER=minilm`). */
  env?: Record<string, string>;
  /** Questions retrieved at once (default 4). */
  concurrency?: number;
  command?: string;
  log?: (message: string) => void;
}

/** Where the development split lives when `data` is a directory. */
export function dataFile(data: string): string {
  return fs.statSync(data).isDirectory() ? path.join(data, 'locomo-dev.json') : data;
}

/** The constants in core/retrieval/fusion.ts as this checkout has them. */
export const IN_USE: FusionParams = { k: RRF_K, weights: { ...FUSION_WEIGHTS }, timePool: TIME_POOL, spanPool: TIME_SPAN_POOL }; // prettier-ignore
/** Plain reciprocal-rank fusion, every retriever alike (the product's constants before tuning). */
export const PLAIN_RRF: FusionParams = {
  k: 60,
  weights: { vector: 1, lexical: 1, graph: 1, time: 0 },
  timePool: 30,
  spanPool: 0,
};

async function retrieved(o: TuneFusionOptions, base: string, log: typeof kitLog) {
  if (o.cache) {
    log(`reading retrieved answers from ${o.cache}`);
    return loadRetrieved(o.cache);
  }
  const file = dataFile(o.data);
  const conversations = loadLocomo(file).slice(0, o.limitConversations);
  const stack = await openTuneStack(conversations, o.env ?? {}, log);
  try {
    const set = await retrieveAll(stack, o.concurrency ?? 4, log);
    saveRetrieved(`${base}.retrieved.json`, set);
    return set;
  } finally {
    await stack.close();
  }
}

/** The context path's part of the report; null for a set saved before it was retrieved. */
function contextPart(set: RetrievedSet, swept: ReturnType<typeof sweep>, log: typeof kitLog) {
  if (!hasContext(set)) {
    log('the retrieved set has no context-path lists (saved before they were kept): context not swept'); // prettier-ignore
    return null;
  }
  const { points, scores, folds } = swept;
  const context = contextReport({
    set,
    points,
    folds,
    final: bestPoint(scores, () => true),
    scorer: contextScorer(set, points, RECENT_GRID),
    inUse: { params: IN_USE, recentWeight: RECENT_WEIGHT, scores: scoreContext(set, IN_USE, RECENT_WEIGHT) }, // prettier-ignore
  });
  log(`context swept: held-out recall@10 ${context.crossValidated.chosen.overall.at10}`);
  return context;
}

function sweep(set: RetrievedSet, log: typeof kitLog) {
  const points = gridPoints();
  const started = performance.now();
  const scores = points.map((p, i) => {
    if (i > 0 && i % 200 === 0) log(`swept ${i}/${points.length} points`);
    return scorePoint(set, p);
  });
  log(`swept ${points.length} points in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  const all = points.map((_, i) => i);
  const withoutTime = all.filter((i) => points[i]!.weights.time === 0);
  return {
    points,
    scores,
    folds: crossValidate(set, scores, all),
    foldsWithoutTime: crossValidate(set, scores, withoutTime),
  };
}

/** Runs the tuning end to end and writes its report; returns it with the files' paths. */
export async function runTuneFusion(o: TuneFusionOptions) {
  const log = o.log ?? kitLog;
  const startedAt = new Date();
  const t0 = performance.now();
  const base = reportBase('tune-fusion', startedAt, path.resolve(o.outDir ?? REPORTS_DIR));
  try {
    const set = await retrieved(o, base, log);
    log(`${set.questions.length} questions retrieved with ${set.embedder}; sweeping`);
    const swept = sweep(set, log);
    const context = contextPart(set, swept, log);
    const tuned = tuneReport({
      set,
      ...swept,
      inUse: { params: IN_USE, scores: scorePoint(set, IN_USE) },
      plain: { params: PLAIN_RRF, scores: scorePoint(set, PLAIN_RRF) },
      meta: { startedAt, command: o.command ?? null, data: o.data ? path.resolve(dataFile(o.data)) : null, cache: o.cache ?? null }, // prettier-ignore
    });
    const report = { ...tuned, context };
    report.meta.seconds = roundTo((performance.now() - t0) / 1000);
    const markdown = [tuneMarkdown(report), ...(context ? contextMarkdown(context) : [])];
    writeReport(base, report, markdown.join('\n'));
    return { ...report, files: { json: `${base}.json`, markdown: `${base}.md` } };
  } finally {
    await cleanup();
  }
}
