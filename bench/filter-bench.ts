/**
 * What a filter costs a search, through the product's HTTP API.
 *
 * One user with 10,000 memories (bench/filters/corpus.ts: metadata, tags, event
 * times, 5 % archived) is seeded straight into a fresh database on the project's
 * PostgreSQL 18 with pgvector (the embedded layout's server) and indexed with the
 * product's own indexer steps; then the product starts as a child over that database
 * (its own Temporal dev server, rate limits off) and `POST /v1/search` is asked the
 * same queries without a filter and under each filter of `SCENARIOS`, one request at
 * a time, the scenarios interleaved in every round so that the machine's weather
 * falls on all of them alike. Reports p50/p95/p99 per scenario and each one's p95 as
 * a multiple of the unfiltered p95 (the target: at most 1.2).
 *
 * Writes `<out>/filters-<timestamp>.{md,json}`.
 */
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  failedSample,
  log as kitLog,
  machineInfo,
  prepareRun,
  REPORTS_DIR,
  reportBase,
  roundTo,
  SETUP_CALL,
  startBenchPostgres,
  summarizeMs,
  userClient,
  apiClient,
  writeReport,
  cleanup,
  type LatencySummary,
} from './bench-kit.ts';
import { benchQueries, SCENARIOS, seedMemories } from './filters/corpus.ts';
import { startOwnStackProduct } from './kit/own-stack-product.ts';
import { seedUser } from './filters/seed.ts';

export interface FilterBenchOptions {
  /** Memories of the one user (default 10,000). */
  memories?: number;
  /** Measured rounds: each asks every scenario once (default 200). */
  rounds?: number;
  /** Unmeasured rounds first (default 20). */
  warmup?: number;
  /** Passed to the seeding and to the product (e.g. `EMBEDDER=hashing`). */
  env?: Record<string, string>;
  outDir?: string;
  command?: string;
  log?: (message: string) => void;
}

/** The target: a filtered search's p95 at most this multiple of the unfiltered one's. */
export const TARGET_RATIO = 1.2;

interface ScenarioResult {
  name: string;
  filters: unknown;
  latency: LatencySummary;
  /** p95 over the unfiltered p95. */
  ratio: number;
  meanHits: number;
  errors: number;
}

/** Runs the benchmark end to end and writes its report; rejects when a search fails. */
export async function runFilterBench(options: FilterBenchOptions = {}) {
  const log = options.log ?? kitLog;
  const { memories = 10_000, rounds = 200, warmup = 20, env = {} } = options;
  const startedAt = new Date();
  const { runDir, dataDir, stackLog } = prepareRun('filter-bench', { allowPin: false });
  try {
    const databaseUrl = await startBenchPostgres(false);
    const layout = { DATA_DIR: dataDir, DATABASE_URL: databaseUrl, ...env };
    const seedStarted = performance.now();
    const userId = await seedUser(layout, seedMemories(memories), log);
    const seedSeconds = roundTo((performance.now() - seedStarted) / 1000, 1);
    log(`seeded and indexed ${memories} memories in ${seedSeconds} s`);

    const { product, adminKey } = await startOwnStackProduct(
      { dataDir, stackLog },
      { ...layout, RATE_LIMIT_ENABLED: 'false' },
      log,
    );
    const key = (await apiClient(product.url, { adminKey }).admin.issueKey(userId, SETUP_CALL))
      .api_key;
    const scenarios = await measure(product.url, key, { rounds, warmup, log });
    const report = {
      meta: {
        startedAt: startedAt.toISOString(),
        command: options.command ?? 'runFilterBench',
        machine: machineInfo(),
        loadAverage: os.loadavg().map((l) => roundTo(l)),
        memories,
        rounds,
        warmup,
        seedSeconds,
        env,
        runDir,
      },
      targetRatio: TARGET_RATIO,
      scenarios,
      worstRatio: Math.max(...scenarios.map((s) => s.ratio)),
    };
    const base = reportBase('filters', startedAt, path.resolve(options.outDir ?? REPORTS_DIR));
    writeReport(base, report, markdown(report));
    return { ...report, files: { json: `${base}.json`, markdown: `${base}.md` } };
  } finally {
    await cleanup();
  }
}

/** Asks every scenario once per round, in an order that rotates, and times each search. */
async function measure(
  url: string,
  key: string,
  { rounds, warmup, log }: { rounds: number; warmup: number; log: (m: string) => void },
): Promise<ScenarioResult[]> {
  const client = userClient(url, key);
  const queries = benchQueries(50);
  const samples = SCENARIOS.map(() => ({ ms: [] as number[], hits: 0, errors: 0 }));
  for (let round = 0; round < warmup + rounds; round++) {
    const query = queries[round % queries.length]!;
    for (let k = 0; k < SCENARIOS.length; k++) {
      const i = (k + round) % SCENARIOS.length;
      const { filters } = SCENARIOS[i]!;
      const started = performance.now();
      try {
        const found = await client.search({ query, limit: 10, ...(filters ? { filters } : {}) });
        if (round < warmup) continue;
        samples[i]!.ms.push(performance.now() - started);
        samples[i]!.hits += found.results.length;
      } catch (error) {
        samples[i]!.errors++;
        throw new Error(`search failed: ${JSON.stringify(failedSample(error))}`, { cause: error });
      }
    }
    if (round >= warmup && (round - warmup) % 50 === 49) log(`round ${round - warmup + 1}/${rounds}`); // prettier-ignore
  }
  const base = summarizeMs(samples[0]!.ms).p95;
  return SCENARIOS.map((scenario, i) => {
    const latency = summarizeMs(samples[i]!.ms);
    return {
      name: scenario.name,
      filters: scenario.filters ?? null,
      latency,
      ratio: roundTo(latency.p95 / base),
      meanHits: roundTo(samples[i]!.hits / Math.max(1, samples[i]!.ms.length), 1),
      errors: samples[i]!.errors,
    };
  });
}

function markdown(report: {
  meta: { startedAt: string; command: string; memories: number; rounds: number; loadAverage: number[]; seedSeconds: number; env: Record<string, string> }; // prettier-ignore
  scenarios: ScenarioResult[];
  worstRatio: number;
}): string {
  const { meta } = report;
  const rows = report.scenarios.map(
    (s) =>
      `| ${s.name} | ${s.latency.p50} | ${s.latency.p95} | ${s.latency.p99} | ${s.ratio} | ${s.meanHits} |`,
  );
  return [
    `# Filtered search cost, ${meta.startedAt}`,
    '',
    `\`${meta.command}\`: one user with ${meta.memories} memories on PostgreSQL 18 + pgvector, ` +
      `${meta.rounds} rounds of \`POST /v1/search\` (limit 10), one request at a time, scenarios ` +
      `interleaved. Seeding and indexing took ${meta.seedSeconds} s. Load average at the end: ` +
      `${meta.loadAverage.join(', ')}.` +
      (Object.keys(meta.env).length > 0 ? ` Env: ${JSON.stringify(meta.env)}.` : ''),
    '',
    '| scenario | p50 ms | p95 ms | p99 ms | p95 / unfiltered p95 | mean hits |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `Worst ratio: ${report.worstRatio} (target ≤ ${TARGET_RATIO}).`,
    '',
  ].join('\n');
}
