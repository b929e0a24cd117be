/**
 * Retrieval-quality benchmark on LoCoMo-format conversations, through the product's
 * public HTTP API only.
 *
 * It starts the product (`scripts/start.ts`) as a child on free loopback ports
 * with a fresh DATA_DIR (and a Temporal dev server of its own unless given one),
 * creates one user per conversation, saves every turn as a memory
 * (`[<session date>] <speaker>: <text>`, with `dia_id`, session, speaker and date in
 * metadata) in batches of 100, waits until all are indexed, then asks every question
 * of categories 1–4 through `POST /v1/search` (limit 10) and `POST /v1/context`
 * (default depth). A question's evidence recall@k is the fraction of its evidence
 * dia_ids among the first k results; the figures are means over questions, overall
 * and per category, with the context's split by `plan.source`, its model calls and
 * latency percentiles per endpoint. Neither endpoint returns metadata, so result ids
 * are mapped to dia_ids from the save responses.
 *
 * Writes `<out>/quality-<timestamp>.{md,json}` and returns the report.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { DEFAULT_MINILM_DIR } from '../infra/config.ts';
import { createMiniLmEmbedder } from '../infra/local/minilm/minilm-embedder.ts';
import {
  checkInterrupted,
  cleanup,
  countIndexStates,
  http,
  log as kitLog,
  mapLimit,
  prepareRun,
  sleep,
  startBenchTemporal,
  startProductChild,
  summarizeMs,
  type Json,
} from './bench-kit.ts';
import {
  CATEGORY_NAMES,
  isScored,
  loadLocomo,
  recallAtK,
  summarizeRecall,
  turnMemory,
  type LocomoConversation,
  type LocomoQuestion,
  type RecallRow,
} from './locomo.ts';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const SAVE_BATCH = 100;
const SEARCH_LIMIT = 10;
const STALL_MS = 180_000;
const PROGRESS_EVERY_MS = 5000;

export interface QualityBenchOptions {
  /** A LoCoMo-format JSON file. */
  data: string;
  limitConversations?: number;
  /** Where the reports go (default bench/reports). */
  outDir?: string;
  /** Extra environment for the product (an embedder switch, a model, …). */
  env?: Record<string, string>;
  /** Questions in flight at once (default 4). */
  concurrency?: number;
  /** Let the product use every core instead of pinning it to core 0 (default false). */
  noPin?: boolean;
  /** An existing Temporal to use instead of starting a dev server. */
  temporalAddress?: string;
  /** The command line to record in the report. */
  command?: string;
  log?: (message: string) => void;
}

interface UserCorpus {
  conversation: LocomoConversation;
  key: string;
  /** Memory id → the dia_ids of the turns with that content (identical turns share one memory). */
  diaIds: Map<string, string[]>;
}

interface QuestionResult extends LocomoQuestion {
  conversation: string;
  search: { at5: number; at10: number; ms: number; results: number };
  context: {
    at5: number;
    at10: number;
    ms: number;
    results: number;
    source: string;
    modelCalls: number;
  };
}

const round2 = (v: number) => Math.round(v * 100) / 100;

async function post(url: string, route: string, key: string, body: unknown) {
  const t0 = performance.now();
  const res = await http(url, 'POST', route, { key, body });
  const ms = performance.now() - t0;
  if (res.status !== 200 && res.status !== 201) {
    throw new Error(`POST ${route}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  return { body: res.body!, ms };
}

async function saveConversation(
  url: string,
  adminKey: string,
  conversation: LocomoConversation,
): Promise<UserCorpus> {
  const created = await post(url, '/v1/admin/users', adminKey, { name: conversation.id });
  const key = created.body.api_key as string;
  const diaIds = new Map<string, string[]>();
  for (let i = 0; i < conversation.turns.length; i += SAVE_BATCH) {
    checkInterrupted();
    const turns = conversation.turns.slice(i, i + SAVE_BATCH);
    const saved = await post(url, '/v1/memories', key, { memories: turns.map(turnMemory) });
    const ids = saved.body.ids as string[];
    turns.forEach((turn, j) => {
      const list = diaIds.get(ids[j]!) ?? [];
      diaIds.set(ids[j]!, [...list, turn.diaId]);
    });
  }
  return { conversation, key, diaIds };
}

async function waitIndexed(url: string, users: UserCorpus[], log: (m: string) => void) {
  const total = users.reduce((s, u) => s + u.diaIds.size, 0);
  const done = new Map<UserCorpus, { indexed: number; failed: number }>();
  let lastProgress = Date.now();
  let lastCount = -1;
  let lastLog = 0;
  for (;;) {
    checkInterrupted();
    for (const u of users) {
      const prev = done.get(u);
      if (prev && prev.indexed + prev.failed >= u.diaIds.size) continue;
      done.set(u, await countIndexStates(url, u.key));
    }
    const states = [...done.values()];
    const indexed = states.reduce((s, v) => s + v.indexed, 0);
    const failed = states.reduce((s, v) => s + v.failed, 0);
    if (indexed + failed >= total) return { indexed, failed };
    if (indexed + failed !== lastCount) {
      lastCount = indexed + failed;
      lastProgress = Date.now();
    }
    if (Date.now() - lastLog >= PROGRESS_EVERY_MS) {
      log(`indexing: ${indexed}/${total} indexed, ${failed} failed`);
      lastLog = Date.now();
    }
    if (Date.now() - lastProgress > STALL_MS) {
      throw new Error(`indexing stalled at ${indexed}/${total} for ${STALL_MS / 1000} s`);
    }
    await sleep(1000);
  }
}

async function askQuestion(
  url: string,
  user: UserCorpus,
  q: LocomoQuestion,
): Promise<QuestionResult> {
  const toDiaIds = (items: { id: string }[]) => items.map((m) => user.diaIds.get(m.id) ?? []);
  const search = await post(url, '/v1/search', user.key, {
    query: q.question,
    limit: SEARCH_LIMIT,
  });
  const searchHits = toDiaIds(search.body.results as { id: string }[]);
  const context = await post(url, '/v1/context', user.key, { message: q.question });
  const contextHits = toDiaIds(context.body.memories as { id: string }[]);
  return {
    ...q,
    conversation: user.conversation.id,
    search: {
      at5: recallAtK(q.evidence, searchHits, 5),
      at10: recallAtK(q.evidence, searchHits, 10),
      ms: round2(search.ms),
      results: searchHits.length,
    },
    context: {
      at5: recallAtK(q.evidence, contextHits, 5),
      at10: recallAtK(q.evidence, contextHits, 10),
      ms: round2(context.ms),
      results: contextHits.length,
      source: String((context.body.plan as Json).source),
      modelCalls: Number(context.body.model_calls ?? 0),
    },
  };
}

function analyse(results: QuestionResult[]) {
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
      memoriesReturned: {
        mean: round2(returned.reduce((s, v) => s + v, 0) / (returned.length || 1)),
        max: Math.max(0, ...returned),
      },
    },
  };
}

export type QualityReport = Awaited<ReturnType<typeof runQualityBench>>;

/** Runs the benchmark end to end and writes its reports; rejects on any failed request. */
/**
 * What query-side embedding costs a search: each question embedded alone by
 * the local model on one thread, as a search does (the query-vector cache
 * off), after a warm-up. Null when the product was told to use another
 * embedder.
 */
async function measureQueryEmbedding(questions: string[], env: Record<string, string> = {}) {
  const embedder = env.EMBEDDER ?? 'auto';
  if (embedder !== 'auto' && embedder !== 'local') return null;
  if (embedder === 'auto' && env.GEMINI_API_KEY) return null;
  const model = await createMiniLmEmbedder({
    modelDir: env.MINILM_MODEL_DIR ?? DEFAULT_MINILM_DIR,
    threads: 1,
  });
  try {
    for (const q of questions.slice(0, 20)) await model.embed([q]);
    const ms: number[] = [];
    for (const q of questions) {
      const started = performance.now();
      await model.embed([q]);
      ms.push(performance.now() - started);
    }
    return { embedder: model.id, threads: 1, ...summarizeMs(ms) };
  } finally {
    await model.close();
  }
}

export async function runQualityBench(options: QualityBenchOptions) {
  const log = options.log ?? kitLog;
  const concurrency = options.concurrency ?? 4;
  const outDir = path.resolve(options.outDir ?? path.join(projectRoot, 'bench', 'reports'));
  const startedAt = new Date();
  const t0 = performance.now();
  const conversations = loadLocomo(options.data).slice(0, options.limitConversations);
  const all = conversations.flatMap((c) => c.questions);
  const scored = all.filter(isScored);
  log(
    `${conversations.length} conversations, ${conversations.reduce((s, c) => s + c.turns.length, 0)} turns, ` +
      `${scored.length} scored questions`,
  );

  const base = path.join(outDir, `quality-${startedAt.toISOString().replace(/[:.]/g, '-')}`);
  fs.mkdirSync(outDir, { recursive: true });
  const { pin, runDir, dataDir, stackLog } = prepareRun('quality-bench', {
    allowPin: !options.noPin,
  });
  try {
    const temporalAddress =
      options.temporalAddress ?? (await startBenchTemporal(projectRoot, runDir, pin)).address;
    const adminKey = randomBytes(24).toString('hex');
    const product = await startProductChild({
      dataDir,
      temporalAddress,
      adminKey,
      logFile: stackLog,
      pin,
      // A fresh data directory means no shared database, index, graph or cache either.
      env: { DATABASE_URL: '', QDRANT_URL: '', NEO4J_URL: '', REDIS_URL: '', ...options.env },
    });
    log(`product pid ${product.pid} on ${product.url}${pin ? ' (pinned to core 0)' : ''}`);

    const saveStarted = performance.now();
    const users: UserCorpus[] = [];
    for (const conversation of conversations) {
      users.push(await saveConversation(product.url, adminKey, conversation));
      log(`saved ${conversation.id}: ${conversation.turns.length} turns`);
    }
    const memories = users.reduce((s, u) => s + u.diaIds.size, 0);
    const states = await waitIndexed(product.url, users, log);
    const indexSeconds = (performance.now() - saveStarted) / 1000;
    log(
      `${states.indexed}/${memories} indexed, ${states.failed} failed in ${indexSeconds.toFixed(1)} s ` +
        `(${(states.indexed / indexSeconds).toFixed(1)} memories/s)`,
    );

    const jobs = users
      .flatMap((user) => user.conversation.questions.filter(isScored).map((q) => ({ user, q })))
      .map((job, index) => ({ ...job, index }));
    // Filled by index, so the report keeps dataset order whatever finishes first.
    const results: QuestionResult[] = new Array<QuestionResult>(jobs.length);
    let answered = 0;
    let lastLog = Date.now();
    const askStarted = performance.now();
    await mapLimit(jobs, concurrency, async ({ user, q, index }) => {
      checkInterrupted();
      results[index] = await askQuestion(product.url, user, q);
      answered++;
      if (Date.now() - lastLog >= PROGRESS_EVERY_MS || answered === jobs.length) {
        lastLog = Date.now();
        log(`questions: ${answered}/${jobs.length}`);
      }
    });
    const askSeconds = (performance.now() - askStarted) / 1000;
    log('timing query-side embedding');
    const queryEmbedding = await measureQueryEmbedding(
      results.map((r) => r.question),
      options.env,
    );

    const report = {
      meta: {
        startedAt: startedAt.toISOString(),
        command: options.command ?? null,
        data: path.resolve(options.data),
        options: {
          limitConversations: options.limitConversations ?? null,
          concurrency,
          searchLimit: SEARCH_LIMIT,
          contextDepth: 'default',
          env: options.env ?? {},
        },
        product: productVersion(),
        pinned: pin,
        machine: {
          cpus: os.cpus().length,
          cpuModel: os.cpus()[0]?.model ?? 'unknown',
          memGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
          node: process.versions.node,
        },
        seconds: 0,
      },
      dataset: {
        conversations: conversations.map((c) => c.id),
        turns: conversations.reduce((s, c) => s + c.turns.length, 0),
        questions: {
          total: all.length,
          scored: scored.length,
          byCategory: Object.fromEntries(
            [1, 2, 3, 4, 5].map((c) => [String(c), all.filter((q) => q.category === c).length]),
          ),
          leftOutAdversarial: all.filter((q) => q.category === 5).length,
          leftOutNoEvidence: all.filter((q) => q.category !== 5 && q.evidence.length === 0).length,
          droppedEvidenceIds: all.filter((q) => q.category !== 5).flatMap((q) => q.droppedEvidence),
        },
      },
      indexing: {
        memories,
        indexed: states.indexed,
        failed: states.failed,
        seconds: round2(indexSeconds),
        memoriesPerSecond: round2(states.indexed / indexSeconds),
      },
      querying: { questions: results.length, seconds: round2(askSeconds) },
      queryEmbedding,
      ...analyse(results),
      questions: results.map((r) => ({
        conversation: r.conversation,
        category: r.category,
        question: r.question,
        evidence: r.evidence,
        search: r.search,
        context: r.context,
      })),
    };
    report.meta.seconds = round2((performance.now() - t0) / 1000);

    fs.writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
    fs.writeFileSync(`${base}.md`, markdown(report));
    return { ...report, files: { json: `${base}.json`, markdown: `${base}.md` } };
  } finally {
    // Clean-up removes the run directory: the product's log (warnings, errors) stays beside the report.
    if (fs.existsSync(stackLog)) fs.copyFileSync(stackLog, `${base}.stack.log`);
    await cleanup();
  }
}

/** The commit the product runs from, and whether the checkout has uncommitted changes. */
function productVersion() {
  const git = (...args: string[]) =>
    spawnSync('git', args, { cwd: projectRoot, encoding: 'utf8' }).stdout?.trim() ?? '';
  return {
    commit: git('rev-parse', '--short', 'HEAD') || null,
    dirty: git('status', '--porcelain') !== '',
  };
}

function markdown(report: Json): string {
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
      `from the first save: ${ix.memoriesPerSecond} memories/s. ` +
      `Questions: ${report.querying.questions} in ${report.querying.seconds} s ` +
      `(concurrency ${m.options.concurrency}).`,
    '',
  );
  out.push('## Evidence recall', '');
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
  out.push('## Context by plan source', '');
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
  ] as [string, Json][]) {
    out.push(`| ${label} | ${l.count} | ${l.p50} | ${l.p95} | ${l.p99} | ${l.mean} | ${l.max} |`);
  }
  out.push('');
  const qe = report.queryEmbedding as Json | null;
  if (qe) {
    out.push(
      `Query-side embedding (${qe.embedder}, ${qe.threads} thread, each question alone, this process's core): ` +
        `p50 ${qe.p50} ms, p95 ${qe.p95} ms, p99 ${qe.p99} ms over ${qe.count} questions.`,
      '',
    );
  }
  out.push(
    `Categories: ${[1, 2, 3, 4].map((n) => `${n} ${CATEGORY_NAMES[n]}`).join(', ')}. ` +
      `Recall@k: the share of a question's evidence turns among the first k results, averaged over questions.`,
    '',
  );
  return out.join('\n');
}
