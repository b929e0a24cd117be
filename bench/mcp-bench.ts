/**
 * MCP overhead benchmark: `get_context` over MCP (Streamable HTTP, one SDK client
 * session) against `POST /v1/context`, for the same messages in the same run.
 *
 * It starts a Temporal dev server and the product's stack
 * (`node --import tsx scripts/start.ts`) on free loopback ports with a
 * fresh DATA_DIR and no model (local fallbacks: heuristic planner, hashing
 * embedder), creates one user, saves ~60 memories in one batch, waits until they
 * are indexed, then for ~40 messages (simple lookups, complex questions, new
 * conversations) runs one warm-up round and `--rounds` measured rounds. Within a
 * round each message is sent once over REST and once over MCP, sequentially,
 * alternating which goes first, so the figures are per-call overhead, not
 * saturation. Client-side wall time (performance.now()) per call.
 *
 * Target (issue): MCP adds ≤ 5 ms at p95 (judged on p95(MCP) − p95(REST); the
 * p95 of the per-message paired differences is shown too).
 *
 * Run: npm run bench -- --scenario mcp [--rounds 10] [--memories 60] [--seed 1]
 * Writes bench/reports/mcp-<timestamp>.{md,json}.
 */
import { randomBytes } from 'node:crypto';
import {
  createUser,
  log,
  machineInfo,
  prepareRun,
  publishReport,
  roundTo,
  runBench,
  SETUP_CALL,
  startBenchTemporal,
  startProductChild,
  userClient,
  waitIndexed,
} from './bench-kit.ts';
import { seededRandom } from '../core/util/seeded-random.ts';
import { makeMemories, makePersona } from '../loadtest/context-corpus.ts';
import { LIMITER_OFF } from './context/options.ts';
import { makeMessages, openMcpSession, runRounds } from './mcp/measure.ts';
import { parseArgs, TARGET_MS } from './mcp/options.ts';
import { markdown, results } from './mcp/report.ts';

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const random = seededRandom(o.seed);
  const { pin, runDir, dataDir, stackLog } = prepareRun('mcp-bench');
  const temporal = await startBenchTemporal(runDir, pin);

  const adminKey = randomBytes(24).toString('hex');
  const stack = await startProductChild({
    dataDir,
    temporalAddress: temporal.address,
    adminKey,
    logFile: stackLog,
    pin,
    // One user sends every call, back to back: with the per-user limiter on, the run
    // measures the limiter (a 429 ends it) rather than what MCP adds.
    env: LIMITER_OFF,
  });
  log(`stack pid ${stack.pid} on ${stack.url}${pin ? ' (pinned to core 0)' : ''}`);

  const { key } = await createUser(stack.url, adminKey);
  const persona = makePersona(random);
  const contents = makeMemories(persona, o.memories, random);
  await userClient(stack.url, key).memories.saveMany(
    contents.map((content) => ({ content })),
    SETUP_CALL,
  );
  log(`saved ${contents.length} memories; waiting until indexed`);
  const indexStarted = Date.now();
  const indexing = await waitIndexed(stack.url, [{ key, expected: contents.length }], {
    pollMs: 500,
    stallMs: 300_000,
    log,
  });
  const indexSeconds = roundTo((Date.now() - indexStarted) / 1000);
  log(`${indexing.indexed} indexed, ${indexing.failed} failed in ${indexSeconds} s`);

  const client = await openMcpSession(stack.url, key);
  const messages = makeMessages(random, persona);
  const byKindCount: Record<string, number> = {};
  for (const m of messages) byKindCount[m.kind] = (byKindCount[m.kind] ?? 0) + 1;
  log(`${messages.length} messages ${JSON.stringify(byKindCount)}; 1 warm-up + ${o.rounds} rounds`);
  const { samples, pairs } = await runRounds({
    url: stack.url,
    key,
    client,
    messages,
    rounds: o.rounds,
  });

  const report = {
    meta: {
      startedAt: startedAt.toISOString(),
      command: `npm run bench -- --scenario mcp ${process.argv.slice(2).join(' ')}`.trim(),
      options: o,
      pinned: pin,
      machine: machineInfo(),
      targetMs: TARGET_MS,
    },
    corpus: {
      memories: contents.length,
      ...indexing,
      indexSeconds,
      messages: messages.length,
      byKind: byKindCount,
      list: messages,
    },
    results: results(pairs),
    samples: samples.map((s) => ({ ...s, ms: roundTo(s.ms) })),
  };
  await publishReport('mcp', startedAt, report, markdown(report));
}

runBench('mcp-bench', main);
