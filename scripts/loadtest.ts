/**
 * `npm run loadtest -- [options]`: runs the load-test workflow against a running
 * API, prints its progress, and where the report is.
 *
 *   --target URL            the API under test (loopback only; default http://127.0.0.1:$PORT)
 *   --sessions N            concurrent chat sessions (default 100)
 *   --duration D            chat scenario length: 60s, 2m, 500ms (default 60s)
 *   --users N               virtual users created (default: the sessions)
 *   --memories N            memories seeded per user (default 20)
 *   --think-ms N            mean pause between a reply and the next message (default 1000)
 *   --saves N               parallel memory saves (default 50)
 *   --ramp-start N, --ramp-step N, --ramp-max N, --ramp-step-duration D
 *                           the peak ramp (default 10, +20 per 15s step, up to 300 sessions)
 *   --p95-threshold N       the ramp stops when a step's p95 passes this, ms (default 1000)
 *   --naive-baseline-ms N   the naive pipeline's mean from `npm run bench`, for the improvement line
 *   --short                 a smoke run: 3 users, 5 s of chat, 5 saves, a 2-step ramp
 *   --worker local|stack    local (default): this process runs the scenarios on a queue of its
 *                           own, so the generator's CPU and memory stay out of the target's
 *                           figures; stack: the stack's worker on TASK_QUEUE_LOADTESTS runs them
 *
 * Needs the target's admin key (the run creates its users): ADMIN_API_KEY, else the key
 * `npm start` generated in DATA_DIR/admin-key, and Temporal at
 * TEMPORAL_ADDRESS (default 127.0.0.1:$TEMPORAL_PORT, the one `npm start` runs).
 */
import { fileURLToPath } from 'node:url';
import { WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { createLoadTestActivities } from '../activities/loadtest-activities.ts';
import { readAdminKey } from '../app/admin-key.ts';
import type { StoredLoadReport } from '../activities/loadtest-report.ts';
import {
  loadTestProgressQuery,
  loadTestSettings,
  loadTestWorkflow,
  loadTestWorkflowId,
  type LoadTestInput,
  type LoadTestProgress,
} from '../workflows/index.ts';
import { cliOptions } from './cli-options.ts';
import { loadConfig, type Config } from '../infra/config.ts';
import { createTemporalClient, createWorkerConnection } from '../infra/temporal/connection.ts';
import { startTagged } from '../infra/temporal/search-attributes.ts';
import { loadTestDeps } from '../workers/loadtest-deps.ts';

const POLL_MS = 2_000;
const time = () => new Date().toISOString().slice(11, 19);
const say = (msg: string) => console.log(`[${time()}] ${msg}`);

/** `60s`, `2m`, `500ms` or a bare number of seconds, in ms. */
function duration(value: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value.trim());
  if (!m) throw new Error(`${flag} expects a duration such as 60s, 2m or 500ms, got ${value}`);
  const n = Number(m[1]);
  return Math.round(m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000);
}

function parseArgs(argv: string[], config: Config) {
  const input: LoadTestInput = { target: `http://127.0.0.1:${config.PORT}` };
  let worker: 'local' | 'stack' = 'local';
  let short = false;
  const chat: NonNullable<LoadTestInput['chat']> = {};
  const ramp: NonNullable<LoadTestInput['ramp']> = {};
  for (const option of cliOptions(argv, import.meta.url)) {
    const { flag } = option;
    if (flag === '--short') {
      short = true;
      continue;
    }
    const value = option.value();
    const int = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} expects a whole number ≥ 1`);
      return n;
    };
    switch (flag) {
      case '--target': input.target = value; break;
      case '--sessions': chat.sessions = int(); break;
      case '--duration': chat.durationMs = duration(value, flag); break;
      case '--users': input.users = int(); break;
      case '--memories': input.memoriesPerUser = int(); break;
      case '--think-ms': chat.thinkMs = int(); break;
      case '--saves': input.saves = { count: int() }; break;
      case '--ramp-start': ramp.startSessions = int(); break;
      case '--ramp-step': ramp.step = int(); break;
      case '--ramp-max': ramp.maxSessions = int(); break;
      case '--ramp-step-duration': ramp.stepDurationMs = duration(value, flag); break;
      case '--p95-threshold': ramp.p95ThresholdMs = int(); break;
      case '--naive-baseline-ms': input.naiveBaselineMs = int(); break;
      case '--worker':
        if (value !== 'local' && value !== 'stack') throw new Error('--worker expects local or stack');
        worker = value;
        break;
      default:
        throw new Error(`unknown option ${flag} (see --help)`);
    } // prettier-ignore
  }
  if (short) {
    Object.assign(input, { users: input.users ?? 3, memoriesPerUser: input.memoriesPerUser ?? 8 });
    input.saves ??= { count: 5 };
    Object.assign(chat, { sessions: chat.sessions ?? 3, durationMs: chat.durationMs ?? 5_000 });
    chat.thinkMs ??= 300;
    Object.assign(ramp, {
      startSessions: ramp.startSessions ?? 2,
      step: ramp.step ?? 2,
      maxSessions: ramp.maxSessions ?? 4,
      stepDurationMs: ramp.stepDurationMs ?? 3_000,
    });
  }
  return { input: { ...input, chat, ramp }, worker };
}

/** An upper bound on a run's length: every scenario's own timeout, plus slack. */
function runBoundMs(s: ReturnType<typeof loadTestSettings>): number {
  const rampSteps =
    Math.ceil(Math.max(0, s.ramp.maxSessions - s.ramp.startSessions) / s.ramp.step) + 1;
  return (
    s.indexWaitMs +
    s.users * 2_000 +
    s.chat.durationMs +
    rampSteps * (s.ramp.stepDurationMs + 10_000) +
    20 * 60_000
  );
}

function progressLine(p: LoadTestProgress, s: ReturnType<typeof loadTestSettings>): string {
  const live = p.live;
  if (p.phase === 'report') return 'writing the report';
  if (p.phase === 'done') return '';
  if (!live) return `${p.phase}: starting`;
  const elapsed = `${Math.round(live.elapsedMs / 1000)} s`;
  const rss = live.rssMb === null ? '' : `, target RSS ${live.rssMb} MB`;
  const p95 = live.p95Ms === null ? '' : `, recent p95 ${live.p95Ms} ms`;
  switch (live.scenario) {
    case 'prepare':
      return `prepare: ${live.sessions}/${s.users} users, ${live.requests} memories stored, ${live.indexed ?? 0} indexed (${elapsed})`;
    case 'chat':
      return `chat: ${live.sessions} sessions, ${live.requests} requests, ${live.errors} errors${p95}${rss} (${elapsed} of ${s.chat.durationMs / 1000} s)`;
    case 'saves':
      return `saves: ${live.requests}/${s.saves.count} done, ${live.sessions} in flight, ${live.errors} errors${p95}${rss}`;
    case 'ramp':
      return `ramp: ${live.sessions} sessions (max ${s.ramp.maxSessions}), ${live.requests} requests, ${live.errors} errors${p95}${rss} (${elapsed})`;
  }
}

/**
 * A worker in this process for a local run: the load-test activities only, on a
 * queue of its own, so the generator's CPU and memory stay out of the target's figures.
 */
async function startLocalWorker(config: Config, taskQueue: string) {
  if (!config.ADMIN_API_KEY) {
    throw new Error(
      "no admin key: the run needs the target's admin key to create users (set ADMIN_API_KEY, " +
        'or start the product once with `npm start`, which generates one in DATA_DIR/admin-key)',
    );
  }
  const connection = await createWorkerConnection(config);
  try {
    const vectorDimension =
      config.embedderKind === 'gemini' ? config.GEMINI_EMBEDDING_DIMENSION : 384;
    const worker = await Worker.create({
      connection,
      namespace: config.TEMPORAL_NAMESPACE,
      taskQueue,
      workflowBundle: await bundleWorkflowCode({
        workflowsPath: fileURLToPath(new URL('../workflows/index.ts', import.meta.url)),
        logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m) => console.error(m) },
      }),
      activities: createLoadTestActivities({ loadTest: loadTestDeps(config, vectorDimension) }),
    }); // prettier-ignore
    const running = worker.run();
    return {
      async stop() {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running;
        await connection.close();
      },
    };
  } catch (error) {
    await connection.close();
    throw error;
  }
}

/** Ctrl-C cancels the run; a second one ends it at once (local) or leaves it on the stack. */
function cancelOnInterrupt(handle: WorkflowHandle, workerMode: 'local' | 'stack') {
  const state = { interrupted: false };
  process.once('SIGINT', () => {
    state.interrupted = true;
    say(
      workerMode === 'local'
        ? 'interrupted: cancelling the run (Ctrl-C again to end it at once)'
        : 'interrupted: cancelling the run (Ctrl-C again to leave it running on the stack)',
    );
    void handle.cancel().catch(() => undefined);
    process.once('SIGINT', () => {
      if (workerMode === 'stack') process.exit(130);
      void handle
        .terminate('interrupted twice from the command line')
        .finally(() => process.exit(130));
    });
  });
  return state;
}

/** Prints the run's progress whenever it changes, until it ends; resolves to its result. */
async function followRun(
  handle: WorkflowHandle<typeof loadTestWorkflow>,
  settings: ReturnType<typeof loadTestSettings>,
) {
  let last = '';
  let done = false;
  const result = handle.result().finally(() => (done = true));
  while (!done) {
    const p = await handle.query(loadTestProgressQuery).catch(() => null);
    const line = p ? progressLine(p, settings) : '';
    if (line && line !== last) say(line);
    last = line || last;
    await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, POLL_MS))]);
  }
  return result;
}

function printReport(report: StoredLoadReport) {
  const h = report.headline;
  say('done');
  console.log('');
  console.log(`chat p95 ${h.chatP95Ms ?? 'n/a'} ms at ${h.chatThroughputPerS} requests/s, error rate ${Math.round(h.errorRate * 1000) / 10} %`); // prettier-ignore
  console.log(`dominant stage at p95: ${h.dominantStage ?? 'n/a'}; sessions sustained: ${h.sustainedSessions}; peak RSS ${h.rssPeakMb ?? 'n/a'} MB`); // prettier-ignore
  console.log(`first to run out: ${h.firstLimit ? `${h.firstLimit.resource} at ≈${h.firstLimit.users} concurrent users` : 'nothing measured'}`); // prettier-ignore
  console.log('');
  for (const m of report.successMetrics) {
    console.log(`${m.pass === null ? '  —  ' : m.pass ? ' PASS' : ' FAIL'}  ${m.metric}: ${m.measured} (target ${m.target})`); // prettier-ignore
  }
  console.log('');
  for (const r of report.capacity) {
    console.log(`  ${r.resource}: ${r.notLimiting ? 'not limiting' : r.limitUsers === null ? 'unmeasured' : `≈${r.limitUsers} ${r.unit}`}`); // prettier-ignore
  }
  console.log('');
  say(`report: ${report.markdownPath}`);
  say(`        ${report.jsonPath}`);
}

async function main() {
  // ADMIN_API_KEY, else the key `npm start` generated for this checkout's data directory.
  const loaded = loadConfig();
  const config = { ...loaded, ADMIN_API_KEY: await readAdminKey(loaded) };
  const { input, worker: workerMode } = parseArgs(process.argv.slice(2), config);
  const settings = loadTestSettings(input);
  // Ctrl-C cancels the run (below): the local worker must keep going to carry that out, so
  // the SDK gets no shutdown signals; its warnings would repeat the failures reported below.
  Runtime.install({
    logger: new DefaultLogger(['debug', 'trace'].includes(config.LOG_LEVEL) ? 'DEBUG' : 'ERROR'),
    shutdownSignals: [],
    telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
  });
  // Piped into `head` or a closed terminal: keep running the load test, quietly.
  process.stdout.on('error', () => undefined);
  const stackQueue = config.TASK_QUEUE_LOADTESTS;
  const workflowId = loadTestWorkflowId();
  const taskQueue = workerMode === 'local' ? `${stackQueue}-cli-${process.pid}` : stackQueue;
  const { client, connection } = await createTemporalClient(config);

  let localWorker: { stop(): Promise<void> } | undefined;
  try {
    if (workerMode === 'local') localWorker = await startLocalWorker(config, taskQueue);

    say(`starting ${workflowId} on task queue ${taskQueue} against ${settings.target}`);
    say(
      `plan: ${settings.users} users × ${settings.memoriesPerUser} memories; chat ${settings.chat.sessions} sessions × ${settings.chat.durationMs / 1000} s; ` +
        `${settings.saves.count} parallel saves; ramp ${settings.ramp.startSessions}→${settings.ramp.maxSessions} (+${settings.ramp.step} per ${settings.ramp.stepDurationMs / 1000} s) until p95 > ${settings.ramp.p95ThresholdMs} ms`,
    );
    const handle = await startTagged(client, 'loadtest', undefined, (tags) =>
      client.workflow.start(loadTestWorkflow, {
        taskQueue,
        workflowId,
        args: [input],
        staticSummary: `load test against ${settings.target}: ${settings.chat.sessions} sessions`,
        // Only this process runs a local run: bound it, so a crash here cannot leave it waiting forever.
        ...(workerMode === 'local' ? { workflowExecutionTimeout: runBoundMs(settings) } : {}),
        ...tags,
      }),
    );
    const interrupt = cancelOnInterrupt(handle, workerMode);
    const { report } = await followRun(handle, settings);
    printReport(report);
    if (interrupt.interrupted) process.exitCode = 130;
  } catch (error) {
    if (error instanceof WorkflowFailedError) {
      const cause = (error.cause?.cause ?? error.cause) as Error | undefined;
      throw new Error(`the load test failed: ${cause?.message ?? error.message}`);
    }
    throw error;
  } finally {
    await localWorker?.stop();
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(`loadtest: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
