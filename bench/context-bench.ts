/**
 * Load benchmark of `POST /v1/context` (and of saves) in the layout users run:
 * the naive pipeline (every optimisation switched off) against the optimized
 * one (defaults), on the same seeded data, with the product as a child process
 * whose whole process tree (API and worker processes, its PostgreSQL, its
 * Temporal dev server) is sampled from /proc every 500 ms for its peak RSS.
 *
 * It starts the Gemini emulator as a child process of its own (`scripts/emulator.ts`
 * under tsx, on a free loopback port, answering the product's planning, extraction
 * and narrative prompts well-formed, planning at the real model's latency: median
 * 1.5 s, p95 3 s) and the product (`node --import tsx scripts/start.ts`), whose
 * process tree a sampler process reads from /proc; this process only sends requests
 * and records timings, and reports its own event-loop delay (flagged above 10 ms).
 * It seeds users and memories through the API, waits until they are indexed
 * (the memories/s it reports is the "indexed end to end" rate), measures a
 * no-op floor (`GET /healthz`), drives chat sessions against the optimized
 * stack, restarts it on the same DATA_DIR with the naive switches and drives
 * them again, then writes `bench/reports/context-<timestamp>.{json,md}` with
 * issue #19's targets table. A chat session speaks for one user at a time: it
 * takes one when it starts and again whenever it opens a new conversation, drawn
 * by Zipf activity among the users no other session holds (so `--sessions` may
 * not exceed `--users`). Each pipeline's section counts plan sources, the
 * heuristic plans by why the model did not plan (`plan.fallback`), and how many
 * repeated complex messages found their plan in the plan cache.
 *
 * Run: npm run bench -- [--users 1000] [--memories 100] [--sessions 100]
 *        [--think-ms 500] [--duration-s 60] [--floor-s 10] [--seed-budget-s 300]
 *        [--narrative-budget-s 300] [--embed-ms 0] [--seed-with-latency]
 *        [--warmup-s 5] [--naive-model-limit] [--only optimized|naive]
 *        [--store default|postgres|pglite] [--seed 1] [--limiter-compare]
 *        [--save-share 0.1] [--save-rate 0] [--save-index-wait-s 60]
 *        [--processes N] [--workers N]
 *        [--scale-out [--step-s 15] [--start-rate 10] [--index-batch 1000]]
 *        [--model emulator|none]
 *
 * `--model emulator` (the default): the Gemini emulator plans (at the real model's
 * latency) and extracts entities; `--model none`: no model at all, as `npm start`
 * ships without a key (heuristic plans, local extraction). With `--store default`
 * or `pglite` the product embeds with its local model (EMBEDDER=local).
 *
 * `--store default` (the default) is exactly what `npm start` runs: the product
 * started with no DATABASE_URL and no TEMPORAL_ADDRESS (free TEMPORAL_PORT and
 * TEMPORAL_UI_PORT), not pinned, so it starts its own Temporal dev server and its
 * own PostgreSQL 18 under DATA_DIR; everything shares every core with this load
 * generator. `--store pglite` is the same with STORE=pglite (the store inside the
 * product process). `--store postgres` is the managed production layout: the
 * bench's own PostgreSQL 18 with pgvector (a fresh database per run) and Temporal
 * dev server on core 1 with this process, the product pinned to core 0.
 * `--processes N` runs N API processes on one port (PROCESSES=api,worker
 * API_PROCESSES=N) and `--workers M` M worker processes (WORKER_PROCESSES=M); not
 * with pglite.
 *
 * Saves: `--save-share` of the sessions' messages save a short fact (`POST
 * /v1/memories`, the class `save`; the other shares scale down), and
 * `--save-rate R` adds an open-loop stream of R saves/s spread uniformly over the
 * users during the run, reported apart. After each run every acknowledged save
 * is checked to exist exactly once (the user's memories listed) and counted as
 * indexed within `--save-index-wait-s` of the run's end. Each run also reports
 * what saturated first: CPU per process of the product's tree and of the
 * machine, the product's event-loop delay (/metrics), this process's own CPU and
 * event-loop delay, 429s from the per-user rate limit, and errors.
 *
 * `--scale-out` replaces the pipelines: on the seeded data, the product with 1
 * then 2 API processes (and as many workers, rate limiter off), each API process
 * pinned to its own core after start; it times indexing a batch of
 * `--index-batch` memories, then steps an open-loop offered load up by a quarter
 * every `--step-s` until the p95 of simple and cached complex queries passes
 * 50 ms, and reports messages/s at the target for both and their ratio (≥ 1.7×),
 * plus the exactly-once check of every acknowledged save.
 *
 * The naive pipeline has the five optimisation switches off and, unless
 * `--naive-model-limit`, no model token bucket either (MODEL_RATE_PER_S and
 * MODEL_BURST 10000), so it plans every message with the model as the
 * unoptimised design did; with the product's default bucket (5/s, burst 10)
 * most naive messages fall back to the heuristic planner and make no model call.
 * `BENCH_STACK_NODE_ARGS` adds Node options to the stack child, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile it (Node refuses those in NODE_OPTIONS).
 * The first `--warmup-s` seconds of each pipeline are driven but not counted.
 * `--limiter-compare` then drives the optimized pipeline with the per-user rate
 * limiter off (`optimized-nolimit`, RATE_LIMIT_ENABLED=false) and with it on once
 * more (`optimized-again`: on, off, on, so warming caches favour neither), times request validation alone in this process
 * (as bench/validation-bench.ts does), and adds a "Rate limiter on vs off"
 * section: p50/p95 of cached complex and simple queries in both runs and the
 * p95 difference against the 0.3 ms budget (issue #15), and the 429s the load met.
 * Quick: npx tsx bench/context-bench.ts --users 30 --memories 30 --sessions 20 --duration-s 20 --only optimized
 */
import { randomBytes } from 'node:crypto';
import { checkInterrupted, log, prepareRun, publishReport, runBench } from './bench-kit.ts';
import { seededRandom } from '../core/util/seeded-random.ts';
import { describeLayout, startLayout, treeFigures } from './context/layout.ts';
import { parseArgs } from './context/options.ts';
import { measurePipelines } from './context/pipelines.ts';
import { buildReport, markdown } from './context/report.ts';
import { measureScaleOut } from './context/scale-out.ts';
import { seed } from './context/seed.ts';
import { measureValidation } from './validation/measure.ts';
import { drainIndexing, drainNarratives } from './context/settle.ts';
import { setEmulatorLatency, startEmulator, startStackChild } from './context/stack.ts';

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const random = seededRandom(o.seed);
  const run = prepareRun('context-bench', { allowPin: o.store === 'postgres' });

  const emulator = await startEmulator(run.runDir);
  await setEmulatorLatency(emulator, o.seedWithLatency, o.embedMs);
  const adminKey = randomBytes(24).toString('hex');
  const geminiUrl = o.model === 'none' ? '' : emulator.url;
  const layout = await startLayout(o, run, { geminiUrl, adminKey });
  const { stackOptions } = layout;

  log('starting the optimized stack (seeding runs against it)');
  const stack = await startStackChild(stackOptions, {});
  log(`stack pid ${stack.pid} on ${stack.url}${stackOptions.pin ? ' (pinned to core 0)' : ''}`);
  log(`seeding up to ${o.users} users × ${o.memories} memories (budget ${o.seedBudgetS} s)`);
  const seeded = await seed(stack.url, adminKey, o, random);
  checkInterrupted();
  log(
    `corpus: ${seeded.users.length} users, ${seeded.submitted} memories, ${seeded.indexed} indexed in ${seeded.seconds} s` +
      ` (${seeded.indexedPerSecond}/s)${seeded.stoppedEarly ? ', stopped early to fit the budget' : ''}`,
  );
  const narratives = await drainNarratives(stack.url, o.narrativeBudgetS);
  const background = await drainIndexing(layout.temporalAddress, o.narrativeBudgetS);
  const seedingTree = treeFigures((await stack.peak()).tree);
  await setEmulatorLatency(emulator, true, o.embedMs);

  const context = { o, stack, stackOptions, emulator, users: seeded.users, random };
  const { floor, pipelines, limiter } = o.scaleOut
    ? { floor: undefined, pipelines: {}, limiter: undefined }
    : await measurePipelines(context);
  const scaleOut = o.scaleOut ? await measureScaleOut(context) : undefined;

  const validation = o.limiterCompare ? measureValidation(50_000, seededRandom(o.seed)) : undefined;
  const seen = (pipelines.optimized ?? pipelines.naive)?.tree ?? seedingTree;
  const description = describeLayout(o, stackOptions.pin, seen);
  const report = buildReport({ o, startedAt, pinned: stackOptions.pin, layout: description, seeded: { ...seeded, tree: seedingTree }, narratives, background, floor, pipelines, limiter, validation, scaleOut }); // prettier-ignore
  await publishReport('context', startedAt, report, markdown(report), run.stackLog);
}

runBench('context-bench', main);
