/**
 * Load benchmark of `POST /v1/context`: the naive pipeline (every optimisation
 * switched off) against the optimized one (defaults), on the same seeded data,
 * with the product's stack as a child process (pinned to one core when
 * `taskset` exists) so its peak RSS can be read from /proc.
 *
 * It starts everything itself on loopback: the Gemini emulator (planning at
 * the real model's latency: median 1.5 s, p95 3 s), a Temporal dev server, and
 * the stack (`node --import tsx scripts/start.ts`). It seeds users and
 * memories through the API, waits until they are indexed, measures a no-op
 * floor (`GET /healthz`), drives chat sessions against the optimized stack,
 * restarts the stack on the same DATA_DIR with the naive switches and drives
 * them again, then writes `bench/reports/context-<timestamp>.{json,md}`.
 *
 * Run: npm run bench -- [--users 1000] [--memories 100] [--sessions 100]
 *        [--think-ms 500] [--duration-s 60] [--floor-s 10] [--seed-budget-s 300]
 *        [--narrative-budget-s 300]
 *        [--embed-ms 0] [--seed-with-latency] [--warmup-s 5] [--naive-model-limit]
 *        [--only optimized|naive] [--store postgres|pglite] [--seed 1] [--limiter-compare]
 *
 * `--store postgres` (the default) is the production layout the targets are
 * measured in: the product's relational store, vectors and graph in the
 * project's PostgreSQL 18 with pgvector (started like in `npm test`, a fresh
 * database per run), running off the product's core like a managed database.
 * `--store pglite` measures the embedded default of `npm start`, whose SQL
 * runs inside the stack process on its one core.
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
 * Quick: npx tsx bench/context-bench.ts --users 30 --memories 30 --sessions 20 --duration-s 20
 */
import { randomBytes } from 'node:crypto';
import {
  checkInterrupted,
  log,
  prepareRun,
  publishReport,
  runBench,
  startBenchPostgres,
  startBenchTemporal,
} from './bench-kit.ts';
import { seededRandom } from '../core/util/seeded-random.ts';
import { parseArgs } from './context/options.ts';
import { measurePipelines } from './context/pipelines.ts';
import { buildReport, markdown } from './context/report.ts';
import { seed } from './context/seed.ts';
import { measureValidation } from './validation/measure.ts';
import { drainIndexing, drainNarratives } from './context/settle.ts';
import { setEmulatorLatency, startEmulator, startStackChild } from './context/stack.ts';

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const random = seededRandom(o.seed);
  const { pin, runDir, dataDir, stackLog } = prepareRun('context-bench');

  const emulator = await startEmulator();
  setEmulatorLatency(emulator, o.seedWithLatency, o.embedMs);
  const temporal = await startBenchTemporal(runDir, pin);
  const databaseUrl = o.store === 'postgres' ? await startBenchPostgres(pin) : undefined;
  const stackOptions = {
    dataDir,
    temporalAddress: temporal.address,
    geminiUrl: emulator.url,
    adminKey: randomBytes(24).toString('hex'),
    logFile: stackLog,
    pin,
    databaseUrl,
  };

  log('starting the optimized stack (seeding runs against it)');
  const stack = await startStackChild(stackOptions, {});
  log(`stack pid ${stack.pid} on ${stack.url}${pin ? ' (pinned to core 0)' : ''}`);
  log(`seeding up to ${o.users} users × ${o.memories} memories (budget ${o.seedBudgetS} s)`);
  const seeded = await seed(stack.url, stackOptions.adminKey, o, random);
  checkInterrupted();
  log(
    `corpus: ${seeded.users.length} users, ${seeded.submitted} memories, ${seeded.indexed} indexed in ${seeded.seconds} s` +
      ` (${seeded.indexedPerSecond}/s)${seeded.stoppedEarly ? ', stopped early to fit the budget' : ''}`,
  );
  const narratives = await drainNarratives(stack.url, o.narrativeBudgetS);
  const background = await drainIndexing(temporal.address, o.narrativeBudgetS);
  setEmulatorLatency(emulator, true, o.embedMs);

  const { floor, pipelines, limiter } = await measurePipelines({
    o,
    stack,
    stackOptions,
    emulator,
    users: seeded.users,
    random,
  });

  const validation = o.limiterCompare ? measureValidation(50_000, seededRandom(o.seed)) : undefined;
  const report = buildReport({ o, startedAt, pinned: pin, seeded, narratives, background, floor, pipelines, limiter, validation }); // prettier-ignore
  await publishReport('context', startedAt, report, markdown(report), stackLog);
}

runBench('context-bench', main);
