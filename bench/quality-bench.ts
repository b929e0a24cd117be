/**
 * Retrieval-quality benchmark on LoCoMo-format conversations, through the product's
 * public HTTP API only.
 *
 * It starts the product (`scripts/start.ts`) as a child on free loopback ports
 * with a fresh DATA_DIR (and a Temporal dev server of its own unless given one),
 * pinned to core 0 when `taskset` can (its whole process tree, so indexing
 * throughput is that of one core), creates one user per conversation, saves every
 * turn as a memory (`[<session date>] <speaker>: <text>`, with `dia_id`, session,
 * speaker and date in metadata) in batches of 100, waits until all are indexed,
 * then asks every question of categories 1–4 through `POST /v1/search` (limit 10)
 * and `POST /v1/context` at its default depth (2), at depth 1 (always the fast
 * path) and at depth 3 (always planned). A question's evidence recall@k is the
 * fraction of its evidence dia_ids among the first k results; the figures are
 * means over questions, overall and per category, with the context's split by
 * `plan.source` and by path, its model calls and latency percentiles per endpoint,
 * the query-side embedding time of the configured local model and the fusion
 * constants in use. Neither endpoint returns metadata, so result ids are mapped to
 * dia_ids from the save responses.
 *
 * Writes `<out>/quality-<timestamp>.{md,json}` and returns the report.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  cleanup,
  log as kitLog,
  prepareRun,
  reportBase,
  REPORTS_DIR,
  roundTo,
  startBenchTemporal,
  startProductChild,
  waitIndexed,
  writeReport,
} from './bench-kit.ts';
import { isScored, loadLocomo } from './locomo.ts';
import { saveConversation, type UserCorpus } from './quality/corpus.ts';
import type { QualityBenchOptions } from './quality/options.ts';
import { measureQueryEmbedding } from './quality/query-embedding.ts';
import { askAll } from './quality/questions.ts';
import { buildReport, markdown } from './quality/report.ts';

export type { QualityBenchOptions };
export type QualityReport = Awaited<ReturnType<typeof runQualityBench>>;

/** Runs the benchmark end to end and writes its reports; rejects on any failed request. */
export async function runQualityBench(options: QualityBenchOptions) {
  const log = options.log ?? kitLog;
  const concurrency = options.concurrency ?? 4;
  const startedAt = new Date();
  const t0 = performance.now();
  const conversations = loadLocomo(options.data).slice(0, options.limitConversations);
  log(
    `${conversations.length} conversations, ${conversations.reduce((s, c) => s + c.turns.length, 0)} turns, ` +
      `${conversations.flatMap((c) => c.questions).filter(isScored).length} scored questions`,
  );

  const base = reportBase('quality', startedAt, path.resolve(options.outDir ?? REPORTS_DIR));
  const { pin, runDir, dataDir, stackLog } = prepareRun('quality-bench', {
    allowPin: !options.noPin,
  });
  try {
    const temporalAddress =
      options.temporalAddress ?? (await startBenchTemporal(runDir, pin)).address;
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
    const expected = users.map((u) => ({ key: u.key, expected: u.diaIds.size }));
    const states = await waitIndexed(product.url, expected, { log });
    const indexSeconds = (performance.now() - saveStarted) / 1000;
    log(
      `${states.indexed}/${memories} indexed, ${states.failed} failed in ${indexSeconds.toFixed(1)} s ` +
        `(${(states.indexed / indexSeconds).toFixed(1)} memories/s)`,
    );

    const askStarted = performance.now();
    const results = await askAll(product.url, users, concurrency, log);
    const askSeconds = (performance.now() - askStarted) / 1000;
    log('timing query-side embedding');
    const queryEmbedding = await measureQueryEmbedding(
      results.map((r) => r.question),
      options.env,
    );

    const report = buildReport({
      options,
      startedAt,
      concurrency,
      pinned: pin,
      conversations,
      indexing: { memories, ...states, seconds: indexSeconds },
      results,
      askSeconds,
      queryEmbedding,
    });
    report.meta.seconds = roundTo((performance.now() - t0) / 1000);
    writeReport(base, report, markdown(report));
    return { ...report, files: { json: `${base}.json`, markdown: `${base}.md` } };
  } finally {
    // Clean-up removes the run directory: the product's log (warnings, errors) stays beside the report.
    if (fs.existsSync(stackLog)) fs.copyFileSync(stackLog, `${base}.stack.log`);
    await cleanup();
  }
}
