// The quality benchmark's report: its JSON (what was run on what, the dataset, the
// indexing and querying times, the recall figures and every question's result) and
// the Markdown summary of it.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { RECENT_WEIGHT } from '../../core/context/strategies.ts';
import { FUSION_WEIGHTS, RRF_K, TIME_POOL, TIME_SPAN_POOL } from '../../core/retrieval/fusion.ts';
import { machineInfo, PROJECT_ROOT, roundTo, type Json } from '../bench-kit.ts';
import { CATEGORY_NAMES, isScored, type LocomoConversation } from '../locomo.ts';
import type { QualityBenchOptions } from './options.ts';
import { analyse, SEARCH_LIMIT, type QuestionResult } from './questions.ts';
import type { measureQueryEmbedding } from './query-embedding.ts';

export interface QualityRun {
  options: QualityBenchOptions;
  startedAt: Date;
  concurrency: number;
  pinned: boolean;
  conversations: LocomoConversation[];
  indexing: { memories: number; indexed: number; failed: number; seconds: number };
  results: QuestionResult[];
  askSeconds: number;
  queryEmbedding: Awaited<ReturnType<typeof measureQueryEmbedding>>;
}

/** The report of a run; `meta.seconds` is left for the caller to set last. */
export function buildReport(run: QualityRun) {
  const { options, conversations, indexing, results } = run;
  const all = conversations.flatMap((c) => c.questions);
  const { cpus, cpuModel, memGb, node } = machineInfo();
  return {
    meta: {
      startedAt: run.startedAt.toISOString(),
      command: options.command ?? null,
      data: path.resolve(options.data),
      options: {
        limitConversations: options.limitConversations ?? null,
        concurrency: run.concurrency,
        searchLimit: SEARCH_LIMIT,
        contextDepth: 'default',
        env: options.env ?? {},
      },
      product: productVersion(),
      /** The fusion's constants in this checkout, which the product under test runs from. */
      fusion: {
        k: RRF_K,
        weights: FUSION_WEIGHTS,
        timePool: TIME_POOL,
        spanPool: TIME_SPAN_POOL,
        /** The weight of the user's latest memories in `/v1/context`'s fusion. */
        recentWeight: RECENT_WEIGHT,
      },
      pinned: run.pinned,
      machine: { cpus, cpuModel, memGb, node },
      seconds: 0,
    },
    dataset: {
      conversations: conversations.map((c) => c.id),
      turns: conversations.reduce((s, c) => s + c.turns.length, 0),
      questions: {
        total: all.length,
        scored: all.filter(isScored).length,
        byCategory: Object.fromEntries(
          [1, 2, 3, 4, 5].map((c) => [String(c), all.filter((q) => q.category === c).length]),
        ),
        leftOutAdversarial: all.filter((q) => q.category === 5).length,
        leftOutNoEvidence: all.filter((q) => q.category !== 5 && q.evidence.length === 0).length,
        droppedEvidenceIds: all.filter((q) => q.category !== 5).flatMap((q) => q.droppedEvidence),
      },
    },
    indexing: {
      ...indexing,
      seconds: roundTo(indexing.seconds),
      memoriesPerSecond: roundTo(indexing.indexed / indexing.seconds),
    },
    querying: { questions: results.length, seconds: roundTo(run.askSeconds) },
    queryEmbedding: run.queryEmbedding,
    ...analyse(results),
    questions: results.map((r) => ({
      conversation: r.conversation,
      category: r.category,
      question: r.question,
      evidence: r.evidence,
      search: r.search,
      context: r.context,
      paths: r.paths,
    })),
  };
}

/** The commit the product runs from, and whether the checkout has uncommitted changes. */
function productVersion() {
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8' }).stdout?.trim() ?? '';
  return {
    commit: git('rev-parse', '--short', 'HEAD') || null,
    dirty: git('status', '--porcelain') !== '',
  };
}

export function markdown(report: Json): string {
  const m = report.meta;
  const out: string[] = [];
  out.push(`# LoCoMo retrieval quality — ${m.startedAt}`, '');
  if (m.command) out.push(`Command: \`${m.command}\``, '');
  out.push(
    `Data: \`${m.data}\` — ${report.dataset.conversations.length} conversations ` +
      `(${report.dataset.conversations.join(', ')}), ${report.dataset.turns} turns, ` +
      `${report.dataset.questions.scored} scored questions (categories 1–4; ` +
      `${report.dataset.questions.leftOutAdversarial} adversarial and ` +
      `${report.dataset.questions.leftOutNoEvidence} without usable evidence left out).`,
    '',
    `Machine: ${m.machine.cpus} × ${m.machine.cpuModel}, ${m.machine.memGb} GB, Node ${m.machine.node}; ` +
      `product at ${m.product.commit ?? 'unknown commit'}${m.product.dirty ? ' with uncommitted changes' : ''}, ` +
      `pinned to core 0: ${m.pinned ? 'yes' : 'no'}. Product env: ` +
      `${Object.keys(m.options.env).length ? `\`${JSON.stringify(m.options.env)}\`` : 'defaults'}. ` +
      `Total time ${m.seconds} s.`,
    '',
  );
  const ix = report.indexing;
  out.push(
    `Indexing: ${ix.indexed}/${ix.memories} memories indexed (${ix.failed} failed) in ${ix.seconds} s ` +
      `from the first save: **${ix.memoriesPerSecond} memories/s**` +
      `${m.pinned ? ' with the product (its whole process tree) pinned to one core' : ' unpinned'}. ` +
      `Questions: ${report.querying.questions} in ${report.querying.seconds} s ` +
      `(concurrency ${m.options.concurrency}).`,
    '',
  );
  const f = m.fusion;
  out.push(
    `Fusion constants in use: RRF k ${f.k}; weights vector ${f.weights.vector}, lexical ${f.weights.lexical}, ` +
      `graph ${f.weights.graph} (one hop at half), time ${f.weights.time} (candidates ${f.timePool} deep, and ${f.spanPool ?? 0} of a named time)` +
      (f.recentWeight === undefined
        ? '.'
        : `; \`/v1/context\` adds the latest memories at ${f.recentWeight}.`),
    '',
  );
  out.push(...recallSection(report), ...pathSection(report), ...latencySections(report));
  out.push(
    `Categories: ${[1, 2, 3, 4].map((n) => `${n} ${CATEGORY_NAMES[n]}`).join(', ')}. ` +
      `Recall@k: the share of a question's evidence turns among the first k results, averaged over questions.`,
    '',
  );
  return out.join('\n');
}

function recallSection(report: Json): string[] {
  const out = ['## Evidence recall', ''];
  out.push(
    '| category | questions | search @5 | search @10 | context @5 | context @10 |',
    '|---|---|---|---|---|---|',
  );
  const s = report.search.recall;
  const c = report.context.recall;
  for (const [cat, row] of Object.entries(s.byCategory as Record<string, Json>)) {
    const cr = c.byCategory[cat] as Json;
    out.push(`| ${cat} ${row.name} | ${row.questions} | ${row.at5} | ${row.at10} | ${cr.at5} | ${cr.at10} |`); // prettier-ignore
  }
  out.push(
    `| **overall** | ${s.overall.questions} | **${s.overall.at5}** | **${s.overall.at10}** | **${c.overall.at5}** | **${c.overall.at10}** |`,
    '',
  );
  out.push(
    `\`/v1/search\` asked for ${SEARCH_LIMIT} results; \`/v1/context\` (default depth) returned ` +
      `${report.context.memoriesReturned.mean} memories on average (at most ${report.context.memoriesReturned.max}), ` +
      `so its @10 counts what it returned.`,
    '',
  );
  return out;
}

function pathSection(report: Json): string[] {
  const out = ['## Fast path vs planned path (`/v1/context`)', ''];
  const rows: [string, Json, number][] = [
    [`fast path (depth ${report.context.paths.fast.depth}: the classifier's plan)`, report.context.paths.fast.recall, report.context.paths.fast.memoriesReturned], // prettier-ignore
    ['default (depth 2: simple messages fast, others planned)', report.context.recall, report.context.memoriesReturned.mean], // prettier-ignore
    [`planned path (depth ${report.context.paths.planned.depth}: every message planned)`, report.context.paths.planned.recall, report.context.paths.planned.memoriesReturned], // prettier-ignore
  ];
  const cats = Object.keys(report.search.recall.byCategory as Json);
  out.push(
    `| path | memories | ${cats.map((c) => `${c} @5`).join(' | ')} | overall @5 | overall @10 |`,
    `|---|---|${cats.map(() => '---|').join('')}---|---|`,
  );
  for (const [label, r, returned] of rows) {
    out.push(`| ${label} | ${returned} | ${cats.map((c) => r.byCategory[c]?.at5 ?? '–').join(' | ')} | **${r.overall.at5}** | ${r.overall.at10} |`); // prettier-ignore
  }
  out.push(
    '',
    'Depth 1 returns 5 memories, so paths compare on @5; @10 counts what each returned.',
    '',
  );
  return out;
}

function latencySections(report: Json): string[] {
  const out = ['## Context by plan source', ''];
  out.push('| plan.source | questions | recall @5 | recall @10 | p50 ms | p95 ms |');
  out.push('|---|---|---|---|---|---|');
  for (const [source, row] of Object.entries(report.context.bySource as Record<string, Json>)) {
    out.push(`| ${source} | ${row.questions} | ${row.at5} | ${row.at10} | ${row.latencyMs.p50} | ${row.latencyMs.p95} |`); // prettier-ignore
  }
  out.push('', `Model calls (sum of \`model_calls\`): ${report.context.modelCalls}.`, '');
  out.push('## Latency (client wall time, ms)', '');
  out.push('| endpoint | n | p50 | p95 | p99 | mean | max |', '|---|---|---|---|---|---|---|');
  for (const [label, l] of [
    ['POST /v1/search', report.search.latencyMs],
    ['POST /v1/context', report.context.latencyMs],
    ['POST /v1/context depth 1', report.context.paths.fast.latencyMs],
    ['POST /v1/context depth 3', report.context.paths.planned.latencyMs],
  ] as [string, Json][]) {
    out.push(`| ${label} | ${l.count} | ${l.p50} | ${l.p95} | ${l.p99} | ${l.mean} | ${l.max} |`);
  }
  out.push(
    '',
    `Each time is one request. 429s from the per-user rate limiter: ${report.rateLimited}, ` +
      'each waited out as its `Retry-After` asked and the call made again; the waits are not in the times. ' +
      `Partial answers (\`degraded\`) or whole timeouts asked again (at most 3 times per call): ${report.incomplete ?? 0}.`,
    '',
  );
  const qe = report.queryEmbedding as Json | null;
  if (qe) {
    out.push(
      `Query-side embedding (${qe.embedder}, ${qe.threads} thread, each question alone, this process's core): ` +
        `p50 ${qe.p50} ms, p95 ${qe.p95} ms, p99 ${qe.p99} ms over ${qe.count} questions.`,
      '',
    );
  }
  return out;
}
