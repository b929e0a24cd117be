/**
 * Local-embedding micro-benchmark (`npm run bench:embed`): the e5 embedder as the
 * product runs it (`createThreadedEmbedder`, one intra-op thread per lane, as with
 * `EMBED_THREADS=1`), pinned to one core (`taskset -c 1` unless `--no-pin`), no
 * database, no Temporal.
 *
 * - indexing: `--memories` passages (default 2000) embedded in calls of `--batch`
 *   texts (default 64, the batching embedder's `EMBED_BATCH_MAX`) at background
 *   priority, one call at a time: memories per wall second and per CPU second of
 *   the whole process (threads included), the best of `--rounds` (default 1);
 * - queries: `--queries` questions (default 300) embedded one at a time on the
 *   interactive lane, alone and again while the background lane keeps indexing
 *   on the same core (two threads on one core);
 * - RSS once both lanes have loaded the model, and its peak;
 * - with `--breakdown`, where a memory's CPU goes (see breakdown.ts; this
 *   checkout's embedder, whatever `--impl` says).
 *
 * CPU seconds are the figure to compare on a busy machine: wall time there says
 * more about the neighbours than about the embedder. Texts are LoCoMo turns with
 * `--data <locomo.json>`, else generated ones of the same shape. `--impl <dir>`
 * loads `<dir>/infra/local/threaded-embedder.ts` instead of this checkout's, to
 * compare an older embedder on the same machine state: `<dir>` is laid out like
 * the checkout (a copy of the old `infra/local` beside symlinks to this one's
 * `package.json`, `core` and `node_modules`). Prints Markdown and writes
 * `bench/reports/embed-<time>.{json,md}`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { withPriority } from '../../core/concurrency/work-priority.ts';
import type { ThreadedEmbedderOptions } from '../../infra/local/threaded-embedder.ts';
import type { LocalEmbedder } from '../../infra/local/local-model.ts';
import { machineInfo, reportBase, roundTo, summarizeMs, writeReport } from '../kit/report-files.ts';
import { PROJECT_ROOT } from '../kit/run-setup.ts';
import { measureBreakdown, type Breakdown } from './breakdown.ts';
import { benchTexts } from './texts.ts';

const PIN_CORE = '1';
const MODEL_DIR = path.join(PROJECT_ROOT, '.tools', 'e5-small-v2-q');
const PINNED_MARK = 'EMBED_BENCH_PINNED';
const USAGE =
  'usage: npm run bench:embed -- [--memories N] [--queries N] [--batch N] [--rounds N] [--data locomo.json] [--impl dir] [--breakdown] [--no-pin]';

interface Options {
  memories: number;
  queries: number;
  batch: number;
  rounds: number;
  data?: string;
  impl?: string;
  breakdown: boolean;
  pin: boolean;
}

function parseArgs(argv: string[]): Options {
  const options: Options = {
    memories: 2000,
    queries: 300,
    batch: 64,
    rounds: 1,
    breakdown: false,
    pin: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--no-pin' || flag === '--breakdown') {
      if (flag === '--no-pin') options.pin = false;
      else options.breakdown = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    const count = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} must be a positive integer`);
      return n;
    };
    if (flag === '--memories') options.memories = count();
    else if (flag === '--queries') options.queries = count();
    else if (flag === '--batch') options.batch = count();
    else if (flag === '--rounds') options.rounds = count();
    else if (flag === '--data') options.data = path.resolve(value);
    else if (flag === '--impl') options.impl = path.resolve(value);
    else throw new Error(`unknown option ${flag}\n${USAGE}`);
  }
  return options;
}

/** Runs this script again under `taskset -c 1`; null when already pinned or pinning is off or impossible. */
function pinnedRerun(options: Options): number | null {
  if (!options.pin || process.env[PINNED_MARK] || os.availableParallelism() < 2) return null;
  if (spawnSync('taskset', ['-c', PIN_CORE, 'true']).status !== 0) return null;
  const self = fileURLToPath(import.meta.url);
  const args = ['-c', PIN_CORE, process.execPath, ...process.execArgv, self];
  const run = spawnSync('taskset', [...args, ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, [PINNED_MARK]: '1' },
  });
  return run.status ?? 1;
}

async function loadEmbedder(options: Options): Promise<LocalEmbedder> {
  if (!fs.existsSync(path.join(MODEL_DIR, 'model.onnx'))) {
    throw new Error(`no e5 model at ${MODEL_DIR}: run \`npm run setup\` first`);
  }
  const root = options.impl ?? PROJECT_ROOT;
  const file = pathToFileURL(path.join(root, 'infra', 'local', 'threaded-embedder.ts')).href;
  const { createThreadedEmbedder } = (await import(file)) as {
    createThreadedEmbedder(o: ThreadedEmbedderOptions): LocalEmbedder;
  };
  return createThreadedEmbedder({
    model: 'e5',
    dir: MODEL_DIR,
    threads: { interactive: 1, background: 1 },
  });
}

const cpuMs = () => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};
const background = <T>(fn: () => Promise<T>) => withPriority('background', fn);

/** Embeds `texts` as passages in calls of `batch`, one call at a time. */
async function index(embedder: LocalEmbedder, texts: string[], batch: number): Promise<void> {
  for (let start = 0; start < texts.length; start += batch) {
    const chunk = texts.slice(start, start + batch);
    await background(() => embedder.embed(chunk));
  }
}

/** {@link index} round and round `texts` until `stop()`. */
async function keepIndexing(
  embedder: LocalEmbedder,
  texts: string[],
  batch: number,
  stop: () => boolean,
): Promise<void> {
  for (let start = 0; !stop(); start = (start + batch) % texts.length) {
    const chunk = texts.slice(start, start + batch);
    await background(() => embedder.embed(chunk));
  }
}

async function queryLatencies(embedder: LocalEmbedder, questions: string[]): Promise<number[]> {
  const ms: number[] = [];
  for (const question of questions) {
    const started = performance.now();
    await embedder.embed([question], { kind: 'query' });
    ms.push(performance.now() - started);
  }
  return ms;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const rerun = pinnedRerun(options);
  if (rerun !== null) process.exit(rerun);
  const startedAt = new Date();
  const texts = benchTexts({
    memories: options.memories,
    questions: options.queries,
    ...(options.data ? { data: options.data } : {}),
  });
  const loadBefore = os.loadavg();
  const embedder = await loadEmbedder(options);
  try {
    await background(() => embedder.embed(texts.memories.slice(0, options.batch)));
    await queryLatencies(embedder, texts.questions.slice(0, 20));
    const rssLoadedMb = process.memoryUsage().rss / 2 ** 20;

    // Best of `rounds`: a busy machine only ever makes a round slower.
    let indexSeconds = Infinity;
    let indexCpuSeconds = Infinity;
    for (let round = 0; round < options.rounds; round++) {
      const wall0 = performance.now();
      const cpu0 = cpuMs();
      await index(embedder, texts.memories, options.batch);
      indexSeconds = Math.min(indexSeconds, (performance.now() - wall0) / 1000);
      indexCpuSeconds = Math.min(indexCpuSeconds, (cpuMs() - cpu0) / 1000);
    }

    const alone = await queryLatencies(embedder, texts.questions);
    let querying = true;
    const indexing = keepIndexing(embedder, texts.memories, options.batch, () => !querying);
    const contended = await queryLatencies(embedder, texts.questions);
    querying = false;
    await indexing;
    const breakdown = options.breakdown
      ? await measureBreakdown({
          modelDir: MODEL_DIR,
          memories: texts.memories,
          batch: options.batch,
          rounds: options.rounds,
          threadedMs: (indexCpuSeconds * 1000) / texts.memories.length,
        })
      : null;

    const report = {
      startedAt: startedAt.toISOString(),
      command: `npm run bench:embed -- ${process.argv.slice(2).join(' ')}`.trim(),
      implementation: options.impl ?? 'this checkout',
      pinnedTo: process.env[PINNED_MARK] ? `core ${PIN_CORE}` : 'not pinned',
      machine: machineInfo(),
      loadAverage1m: { before: roundTo(loadBefore[0]!), after: roundTo(os.loadavg()[0]!) },
      texts: {
        source: texts.source,
        memories: texts.memories.length,
        queries: texts.questions.length,
      },
      batch: options.batch,
      indexing: {
        seconds: roundTo(indexSeconds),
        memoriesPerSecond: roundTo(texts.memories.length / indexSeconds, 1),
        memoriesPerCpuSecond: roundTo(texts.memories.length / indexCpuSeconds, 1),
        cpuMsPerMemory: roundTo((indexCpuSeconds * 1000) / texts.memories.length, 3),
      },
      queryMs: summarizeMs(alone),
      queryDuringIndexingMs: summarizeMs(contended),
      rssMb: {
        loaded: roundTo(rssLoadedMb, 1),
        peak: roundTo(process.resourceUsage().maxRSS / 1024, 1),
      },
      cpuMsPerMemory: breakdown,
    };
    const md = markdown(report);
    console.log(md);
    writeReport(reportBase('embed', startedAt), report, md);
  } finally {
    await embedder.close();
  }
}

function markdown(r: {
  command: string;
  implementation: string;
  pinnedTo: string;
  loadAverage1m: { before: number; after: number };
  texts: { source: string; memories: number; queries: number };
  batch: number;
  indexing: { memoriesPerSecond: number; memoriesPerCpuSecond: number; cpuMsPerMemory: number };
  queryMs: { p50: number; p95: number };
  queryDuringIndexingMs: { p50: number; p95: number };
  rssMb: { loaded: number; peak: number };
  cpuMsPerMemory: Breakdown | null;
}): string {
  const b = r.cpuMsPerMemory;
  const breakdown = b
    ? [
        `| CPU ms per memory: tokenizer / model call / rest in thread / thread hop | ${b.tokenizeMs} / ${b.modelMs} / ${b.restInThreadMs} / ${b.threadHopMs} |`,
        `| padding the model computed / mean tokens per memory | ${roundTo(b.paddingShare * 100, 1)} % / ${b.meanTokens} |`,
      ]
    : [];
  return [
    '# Local embedding (e5-small-v2 int8, threaded as in the product)',
    '',
    `\`${r.command}\`; ${r.implementation}; ${r.pinnedTo}; load average ${r.loadAverage1m.before} → ${r.loadAverage1m.after}`,
    `${r.texts.memories} memories in calls of ${r.batch}, ${r.texts.queries} queries; texts: ${r.texts.source}`,
    '',
    '| figure | value |',
    '| --- | --- |',
    `| indexing, memories/s (wall) | ${r.indexing.memoriesPerSecond} |`,
    `| indexing, memories per CPU second | ${r.indexing.memoriesPerCpuSecond} (${r.indexing.cpuMsPerMemory} ms each) |`,
    `| query p50 / p95, alone | ${r.queryMs.p50} / ${r.queryMs.p95} ms |`,
    `| query p50 / p95, while indexing on the same core | ${r.queryDuringIndexingMs.p50} / ${r.queryDuringIndexingMs.p95} ms |`,
    `| RSS with both lanes loaded / peak | ${r.rssMb.loaded} / ${r.rssMb.peak} MB |`,
    ...breakdown,
    '',
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(`bench:embed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
