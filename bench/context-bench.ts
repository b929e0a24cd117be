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
 *        [--only optimized|naive] [--store postgres|pglite] [--seed 1]
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
 * Quick: npx tsx bench/context-bench.ts --users 30 --memories 30 --sessions 20 --duration-s 20
 */
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkInterrupted,
  cleanup,
  cleanups,
  http,
  isInterrupted,
  log,
  mapLimit,
  percentile,
  prepareRun,
  REQUEST_TIMEOUT_MS,
  sleep,
  startBenchPostgres,
  startBenchTemporal,
  startProductChild,
  type ProductChild,
  type Json,
} from './bench-kit.ts';
import {
  startGeminiEmulator,
  type EmulatorGenerateRequest,
  type GeminiEmulator,
} from '../tools/gemini-emulator/emulator.ts';
import {
  complexMessage,
  makeMemories,
  makePersona,
  newConversationMessage,
  seededRandom,
  simpleMessage,
  zipfSampler,
  type MessageKind,
  type Persona,
  type Random,
} from '../loadtest/context-corpus.ts';

const projectRoot = fileURLToPath(new URL('..', import.meta.url));
const PLAN_LATENCY = { medianMs: 1500, p95Ms: 3000 };
const MIX = { simple: 0.35, complex: 0.5, new_conversation: 0.15 };
const REPEAT_SHARE = 0.2;
const RECENT_PER_USER = 8;
const ZIPF_S = 1.0;
const PROGRESS_EVERY_MS = 5_000;
const NAIVE_SWITCHES = {
  CLASSIFIER_ENABLED: 'false',
  PLAN_CACHE_ENABLED: 'false',
  SEARCH_CACHE_ENABLED: 'false',
  PARALLEL_STRATEGIES: 'false',
  VECTOR_BATCHING_ENABLED: 'false',
  QUERY_EMBED_CACHE_ENABLED: 'false',
};

// ---------------------------------------------------------------- options

interface Options {
  users: number;
  memories: number;
  sessions: number;
  thinkMs: number;
  durationS: number;
  floorS: number;
  seedBudgetS: number;
  narrativeBudgetS: number;
  embedMs: number;
  seedWithLatency: boolean;
  warmupS: number;
  naiveModelLimit: boolean;
  only: 'both' | 'optimized' | 'naive';
  store: 'postgres' | 'pglite';
  seed: number;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {
    users: 1000,
    memories: 100,
    sessions: 100,
    thinkMs: 500,
    durationS: 60,
    floorS: 10,
    seedBudgetS: 300,
    narrativeBudgetS: 300,
    embedMs: 0,
    seedWithLatency: false,
    warmupS: 5,
    naiveModelLimit: false,
    only: 'both',
    store: 'postgres',
    seed: 1,
  };
  const numeric: Record<string, keyof Options> = {
    '--users': 'users',
    '--memories': 'memories',
    '--sessions': 'sessions',
    '--think-ms': 'thinkMs',
    '--duration-s': 'durationS',
    '--floor-s': 'floorS',
    '--seed-budget-s': 'seedBudgetS',
    '--narrative-budget-s': 'narrativeBudgetS',
    '--embed-ms': 'embedMs',
    '--seed': 'seed',
    '--warmup-s': 'warmupS',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    if (flag === '--seed-with-latency') {
      o.seedWithLatency = true;
      continue;
    }
    if (flag === '--naive-model-limit') {
      o.naiveModelLimit = true;
      continue;
    }
    if (flag === '--help' || flag === '-h') {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('*/')[0]);
      process.exit(0);
    }
    const value = inline ?? argv[++i];
    if (flag === '--store') {
      if (value !== 'postgres' && value !== 'pglite') {
        throw new Error('--store expects postgres or pglite');
      }
      o.store = value;
      continue;
    }
    if (flag === '--only') {
      if (value !== 'optimized' && value !== 'naive' && value !== 'both') {
        throw new Error('--only expects optimized, naive or both');
      }
      o.only = value;
      continue;
    }
    const key = numeric[flag!];
    const n = Number(value);
    if (!key) throw new Error(`unknown option ${flag} (see --help)`);
    if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} expects a number, got ${value}`);
    (o[key] as number) = n;
  }
  if (o.users < 1 || o.memories < 1 || o.sessions < 1 || o.durationS <= 0) {
    throw new Error('--users, --memories, --sessions and --duration-s must be at least 1');
  }
  return o;
}

// ---------------------------------------------------------------- helpers

function summarize(latencies: number[]) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1);
  const r = (v: number) => (Number.isNaN(v) ? null : Math.round(v * 10) / 10);
  return {
    count: sorted.length,
    p50: r(percentile(sorted, 0.5)),
    p95: r(percentile(sorted, 0.95)),
    p99: r(percentile(sorted, 0.99)),
    mean: sorted.length ? r(mean) : null,
    max: r(sorted[sorted.length - 1] ?? NaN),
  };
}

// ---------------------------------------------------------------- emulator

/** Plans for planning prompts, capitalised words as entities for extraction prompts. */
function responder(request: EmulatorGenerateRequest): string {
  if (request.system?.includes('You plan how')) {
    const words = request.prompt
      .toLowerCase()
      .replace(/[^a-z0-9' ]+/g, ' ')
      .split(/\s+/)
      .filter((w) => w.length > 3);
    const queries = [request.prompt.slice(0, 280)];
    if (words.length > 2) queries.push(words.slice(-4).join(' '));
    return JSON.stringify({
      strategy: words.length > 10 ? 'comprehensive_analysis' : 'deep_understanding',
      queries,
      include_narrative: /pattern|changed|evolved|relationship/i.test(request.prompt),
      save_worthy: false,
    });
  }
  const names = [...new Set(request.prompt.match(/\b[A-Z][a-z]{2,}(?: [A-Z][a-z]+)?\b/g) ?? [])]
    .filter((n) => !/^(I|My|On|For|Took|Called|Cooked|Work|The)$/.test(n))
    .slice(0, 6);
  return JSON.stringify({
    entities: names.map((name) => ({ name, type: 'thing' })),
    relations: [],
  });
}

function setEmulatorLatency(emulator: GeminiEmulator, real: boolean, embedMs: number) {
  const embed = embedMs > 0 ? { medianMs: embedMs, p95Ms: embedMs * 2 } : null;
  emulator.configure({
    methods: {
      generateContent: { latency: real ? PLAN_LATENCY : null },
      embedContent: { latency: embed },
      batchEmbedContents: { latency: embed },
    },
  });
}

// ---------------------------------------------------------------- stack child

/** The product with the emulator as its model, optionally on PostgreSQL, with `switches`. */
function startStackChild(opts: {
  dataDir: string;
  temporalAddress: string;
  geminiUrl: string;
  adminKey: string;
  switches: Record<string, string>;
  logFile: string;
  pin: boolean;
  databaseUrl: string | undefined;
}): Promise<ProductChild> {
  return startProductChild({
    dataDir: opts.dataDir,
    temporalAddress: opts.temporalAddress,
    adminKey: opts.adminKey,
    logFile: opts.logFile,
    pin: opts.pin,
    env: {
      GEMINI_BASE_URL: opts.geminiUrl,
      ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
      ...opts.switches,
    },
  });
}

// ---------------------------------------------------------------- seeding

interface SeededUser {
  id: string;
  key: string;
  persona: Persona;
  memories: number;
  indexed: boolean;
}

async function seed(url: string, adminKey: string, o: Options, random: Random) {
  const started = Date.now();
  const users: SeededUser[] = [];
  let submitted = 0;
  let indexed = 0;
  let failed = 0;
  let stoppedEarly = false;
  const budgetMs = o.seedBudgetS * 1000;
  const samples: { t: number; indexed: number }[] = [];

  const countIndexed = async (u: SeededUser) => {
    let cursor: string | null = null;
    let done = 0;
    let bad = 0;
    do {
      const q: string = `/v1/memories?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const res = await http(url, 'GET', q, { key: u.key });
      if (res.status !== 200) throw new Error(`GET /v1/memories: ${res.status}`);
      for (const m of res.body!.items as { index_state: string }[]) {
        if (m.index_state === 'indexed') done++;
        if (m.index_state === 'failed') bad++;
      }
      cursor = res.body!.next_cursor as string | null;
    } while (cursor);
    return { done, bad };
  };

  // The indexer, polled in the background: users whose memories are all indexed drop out.
  let polling = true;
  const poller = (async () => {
    while (polling) {
      const pending = users.filter((u) => !u.indexed);
      let sum = users.filter((u) => u.indexed).reduce((s, u) => s + u.memories, 0);
      let bad = 0;
      await mapLimit(pending, 4, async (u) => {
        const { done, bad: b } = await countIndexed(u).catch(() => ({ done: 0, bad: 0 }));
        if (done + b >= u.memories) u.indexed = true;
        sum += done;
        bad += b;
      });
      indexed = sum;
      failed = bad;
      samples.push({ t: Date.now(), indexed });
      if (!polling) break;
      await sleep(2000);
    }
  })();

  const progress = setInterval(() => {
    const s = (Date.now() - started) / 1000;
    log(
      `seeding: ${users.length}/${o.users} users, ${submitted} memories saved, ${indexed} indexed` +
        ` (${(indexed / s).toFixed(1)}/s), ${failed} failed`,
    );
  }, PROGRESS_EVERY_MS);

  try {
    const plan = Array.from({ length: o.users }, (_, i) => i);
    await mapLimit(plan, 4, async () => {
      // Stop adding users once what is saved could not be indexed within the budget
      // (judged from the indexing rate once it has been measured for 30 s).
      const elapsed = Date.now() - started;
      const rate = indexed / Math.max(1, elapsed / 1000);
      const eta = rate > 0 ? ((submitted - indexed) / rate) * 1000 : 0;
      if (
        users.length > 0 &&
        (elapsed > budgetMs * 0.9 || (elapsed > 30_000 && rate > 0 && elapsed + eta > budgetMs))
      ) {
        stoppedEarly = true;
        return;
      }
      const created = await http(url, 'POST', '/v1/admin/users', { key: adminKey, body: {} });
      if (created.status !== 201) throw new Error(`POST /v1/admin/users: ${created.status}`);
      const persona = makePersona(random);
      const contents = makeMemories(persona, o.memories, random);
      const user: SeededUser = {
        id: created.body!.user_id as string,
        key: created.body!.api_key as string,
        persona,
        memories: contents.length,
        indexed: false,
      };
      for (let i = 0; i < contents.length; i += 100) {
        const batch = contents.slice(i, i + 100).map((content, j) => ({
          content,
          tags: [pick3(i + j)],
        }));
        const res = await http(url, 'POST', '/v1/memories', {
          key: user.key,
          body: { memories: batch },
        });
        if (res.status !== 201 && res.status !== 200) {
          throw new Error(`POST /v1/memories: ${res.status} ${JSON.stringify(res.body)}`);
        }
        submitted += batch.length;
      }
      users.push(user);
    });
    const savedAt = Date.now();
    log(`saved ${submitted} memories for ${users.length} users; waiting for indexing`);
    const waitDeadline = Date.now() + Math.max(budgetMs, 120_000);
    while (users.some((u) => !u.indexed)) {
      checkInterrupted();
      if (Date.now() > waitDeadline) {
        log(`indexing not finished after the wait; continuing with ${indexed}/${submitted}`);
        break;
      }
      await sleep(1000);
    }
    polling = false;
    await poller;
    const last = users.every((u) => u.indexed) ? Date.now() : savedAt;
    const seconds = (last - started) / 1000;
    return {
      users,
      submitted,
      indexed,
      failed,
      stoppedEarly,
      seconds: Math.round(seconds * 10) / 10,
      saveSeconds: Math.round(((savedAt - started) / 1000) * 10) / 10,
      indexedPerSecond: Math.round((indexed / seconds) * 10) / 10,
      samples,
    };
  } finally {
    polling = false;
    clearInterval(progress);
    await poller;
  }
}

/**
 * Waits until the narrative scheduler's queue is empty: bulk seeding leaves
 * every user's portrait stale, and that one-off backlog would otherwise run
 * on the product's core during the measured load. Reads the queue depth from
 * `/metrics` (a query of the scheduler every 5 s).
 */
async function drainNarratives(url: string, budgetS: number) {
  const started = Date.now();
  let depth: number | null = null;
  let last = 0;
  while (Date.now() - started < budgetS * 1000) {
    checkInterrupted();
    const res = await fetch(`${url}/metrics`).catch(() => null);
    const text = res?.ok ? await res.text() : '';
    const m = /^\S*narrative_queue_depth\s+(\S+)$/m.exec(text);
    depth = m ? Number(m[1]) : null;
    if (depth === 0) break;
    if (Date.now() - last > 5000) {
      log(`narratives: ${depth ?? 'unknown'} users queued after seeding; waiting`);
      last = Date.now();
    }
    await sleep(2000);
  }
  // The last few generations run after the queue empties (at most the scheduler's concurrency).
  if (depth === 0) await sleep(6000);
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  log(
    `narratives: queue ${depth === 0 ? 'drained' : `still ${depth ?? 'unknown'}`} after ${seconds} s`,
  );
  return { drained: depth === 0, remaining: depth, seconds };
}

/** Running workflows by type on the bench's dev server (visibility list). */
async function runningWorkflows(client: Client): Promise<Record<string, number>> {
  const byType: Record<string, number> = {};
  for await (const run of client.workflow.list({ query: 'ExecutionStatus="Running"' })) {
    byType[run.type] = (byType[run.type] ?? 0) + 1;
  }
  return byType;
}

/**
 * Waits until no memory is being indexed: what the seeding's indexing hands
 * back to per-memory runs (or the reconciler re-requests) must not run on the
 * product's core during the measured load.
 */
async function drainIndexing(address: string, budgetS: number) {
  const started = Date.now();
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  let running: Record<string, number> = {};
  const indexing = () =>
    Object.entries(running)
      .filter(([type]) => type.startsWith('index'))
      .reduce((n, [, c]) => n + c, 0);
  try {
    while (Date.now() - started < budgetS * 1000) {
      checkInterrupted();
      running = await runningWorkflows(client);
      if (indexing() === 0) break;
      log(`indexing runs still going: ${JSON.stringify(running)}`);
      await sleep(3000);
    }
  } finally {
    await connection.close();
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  log(`running workflows before measuring: ${JSON.stringify(running)} (${seconds} s)`);
  return { running, seconds, drained: indexing() === 0 };
}

function pick3(i: number): string {
  return ['family', 'work', 'hobbies', 'health', 'preferences', 'travel'][i % 6]!;
}

// ---------------------------------------------------------------- load

interface Sample {
  /** ms since the run started, when the request was sent. */
  at: number;
  kind: MessageKind | 'healthz';
  repeat: boolean;
  ms: number;
  ok: boolean;
  status: number;
  error?: string;
  planClass?: string;
  planSource?: string;
  cachePlan?: string;
  cacheSearch?: string;
  modelCalls?: number;
}

async function drive(opts: {
  name: string;
  url: string;
  users: SeededUser[];
  sessions: number;
  thinkMs: number;
  durationS: number;
  warmupS: number;
  random: Random;
  healthz?: boolean;
  rss?: () => { rssKb: number };
}): Promise<{ samples: Sample[]; warmup: number; seconds: number }> {
  const { random } = opts;
  const zipf = zipfSampler(opts.users.length, ZIPF_S, random);
  // Rank order is shuffled so the most active users are not simply the first seeded.
  const order = opts.users.map((_, i) => i).sort(() => random() - 0.5);
  const recent = new Map<string, { message: string; kind: MessageKind }[]>();
  const samples: Sample[] = [];
  const started = performance.now();
  const endAt = started + (opts.warmupS + opts.durationS) * 1000;
  let lastCount = 0;

  const progress = setInterval(() => {
    const elapsed = (performance.now() - started) / 1000;
    const window = samples.slice(lastCount);
    lastCount = samples.length;
    const s = summarize(window.map((x) => x.ms));
    const errors = samples.filter((x) => !x.ok).length;
    const rss = opts.rss ? ` rss ${Math.round(opts.rss().rssKb / 1024)} MB` : '';
    log(
      `${opts.name}: ${elapsed.toFixed(0)}/${opts.warmupS + opts.durationS}s ${samples.length} req` +
        ` (${(window.length / (PROGRESS_EVERY_MS / 1000)).toFixed(1)}/s) last p50 ${s.p50} p95 ${s.p95} ms,` +
        ` ${errors} errors${rss}`,
    );
  }, PROGRESS_EVERY_MS);

  const session = async (index: number) => {
    // Stagger the starts over one think time so sessions do not move in lockstep.
    await sleep(random() * opts.thinkMs);
    while (performance.now() < endAt && !isInterrupted()) {
      const user = opts.users[order[zipf()]!]!;
      const t0 = performance.now();
      const at = t0 - started;
      if (opts.healthz) {
        try {
          const res = await fetch(`${opts.url}/healthz`, {
            signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
          });
          await res.arrayBuffer();
          samples.push({ at, kind: 'healthz', repeat: false, ms: performance.now() - t0, ok: res.ok, status: res.status }); // prettier-ignore
        } catch (error) {
          samples.push({ at, kind: 'healthz', repeat: false, ms: performance.now() - t0, ok: false, status: 0, error: (error as Error).name }); // prettier-ignore
        }
      } else {
        const history = recent.get(user.id) ?? [];
        let message: string;
        let kind: MessageKind;
        let repeat = false;
        if (history.length > 0 && random() < REPEAT_SHARE) {
          ({ message, kind } = history[Math.floor(random() * history.length)]!);
          repeat = true;
        } else {
          const u = random();
          kind =
            u < MIX.simple ? 'simple' : u < MIX.simple + MIX.complex ? 'complex' : 'new_conversation'; // prettier-ignore
          message =
            kind === 'simple'
              ? simpleMessage(user.persona, random)
              : kind === 'complex'
                ? complexMessage(user.persona, random)
                : newConversationMessage(user.persona, random);
          history.push({ message, kind });
          if (history.length > RECENT_PER_USER) history.shift();
          recent.set(user.id, history);
        }
        const t1 = performance.now();
        try {
          const res = await http(opts.url, 'POST', '/v1/context', {
            key: user.key,
            body: { message, is_new_conversation: kind === 'new_conversation' },
          });
          const ms = performance.now() - t1;
          const b = res.body ?? {};
          samples.push({
            at,
            kind,
            repeat,
            ms,
            ok: res.status >= 200 && res.status < 300,
            status: res.status,
            ...(res.status >= 300 ? { error: String(b.error?.code ?? res.status) } : {}),
            planClass: b.plan?.class,
            planSource: b.plan?.source,
            cachePlan: b.cache?.plan,
            cacheSearch: b.cache?.search,
            modelCalls: typeof b.model_calls === 'number' ? b.model_calls : 0,
          });
        } catch (error) {
          samples.push({ at, kind, repeat, ms: performance.now() - t1, ok: false, status: 0, error: (error as Error).name }); // prettier-ignore
        }
      }
      void index;
      await sleep(opts.thinkMs * (0.5 + random()));
    }
  };

  try {
    await Promise.all(Array.from({ length: opts.sessions }, (_, i) => session(i)));
  } finally {
    clearInterval(progress);
  }
  const warmupMs = opts.warmupS * 1000;
  return {
    samples: samples.filter((s) => s.at >= warmupMs),
    warmup: samples.filter((s) => s.at < warmupMs).length,
    seconds: (performance.now() - started - warmupMs) / 1000,
  };
}

function analyse(samples: Sample[], seconds: number) {
  const byKind = (kind: string) => samples.filter((s) => s.kind === kind);
  const ok = samples.filter((s) => s.ok);
  const classes = Object.fromEntries(
    (['simple', 'complex', 'new_conversation'] as const).map((kind) => {
      const all = byKind(kind);
      const good = all.filter((s) => s.ok);
      const servedAs: Record<string, number> = {};
      for (const s of good) servedAs[s.planClass ?? '?'] = (servedAs[s.planClass ?? '?'] ?? 0) + 1;
      return [
        kind,
        {
          ...summarize(good.map((s) => s.ms)),
          throughput: Math.round((good.length / seconds) * 10) / 10,
          errors: all.length - good.length,
          repeats: all.filter((s) => s.repeat).length,
          modelCallsPerMessage: ratio(sum(good.map((s) => s.modelCalls ?? 0)), good.length),
          servedAs,
        },
      ];
    }),
  );
  const tiers = (field: 'cachePlan' | 'cacheSearch') => {
    const counts: Record<string, number> = {};
    for (const s of ok) counts[s[field] ?? '?'] = (counts[s[field] ?? '?'] ?? 0) + 1;
    const consulted = ok.filter((s) => s[field] && s[field] !== 'off').length;
    const hits = ok.filter((s) => ['l1', 'l2', 'l3'].includes(s[field] ?? '')).length;
    const tierRates = Object.fromEntries(
      ['l1', 'l2', 'l3', 'miss'].map((t) => [t, ratio(counts[t] ?? 0, consulted)]),
    );
    return { counts, consulted, hitRate: ratio(hits, consulted), tierRates };
  };
  const complexOk = byKind('complex').filter((s) => s.ok);
  const cachedComplex = complexOk.filter((s) => ['l1', 'l2', 'l3'].includes(s.cachePlan ?? ''));
  const uncachedComplex = complexOk.filter((s) => !cachedComplex.includes(s));
  const errorKinds: Record<string, number> = {};
  for (const s of samples.filter((x) => !x.ok)) {
    const k = s.error ?? String(s.status);
    errorKinds[k] = (errorKinds[k] ?? 0) + 1;
  }
  const planSources: Record<string, number> = {};
  for (const s of ok)
    planSources[s.planSource ?? '?'] = (planSources[s.planSource ?? '?'] ?? 0) + 1;
  return {
    overall: {
      ...summarize(ok.map((s) => s.ms)),
      throughput: Math.round((ok.length / seconds) * 10) / 10,
      errors: samples.length - ok.length,
      errorKinds,
      modelCallsPerMessage: ratio(sum(ok.map((s) => s.modelCalls ?? 0)), ok.length),
      planSources,
    },
    classes,
    cache: { plan: tiers('cachePlan'), search: tiers('cacheSearch') },
    cachedComplex: summarize(cachedComplex.map((s) => s.ms)),
    uncachedComplex: summarize(uncachedComplex.map((s) => s.ms)),
    uncachedComplexWithModelCall: summarize(
      uncachedComplex.filter((s) => (s.modelCalls ?? 0) > 0).map((s) => s.ms),
    ),
    seconds: Math.round(seconds * 10) / 10,
  };
}

const sum = (xs: number[]) => xs.reduce((s, v) => s + v, 0);
const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 1000) / 1000);

// ---------------------------------------------------------------- report

type Analysis = ReturnType<typeof analyse>;

function comparisons(
  optimized: (Analysis & { peakRssMb: number }) | undefined,
  naive: (Analysis & { peakRssMb: number }) | undefined,
) {
  const lines: { check: string; target: string; measured: string; pass: boolean | null }[] = [];
  const fmt = (v: number | null | undefined, unit = ' ms') => (v == null ? 'n/a' : `${v}${unit}`);
  if (optimized && naive) {
    const factor =
      optimized.overall.mean && naive.overall.mean ? naive.overall.mean / optimized.overall.mean : null; // prettier-ignore
    lines.push({
      check: 'optimized mean vs naive mean',
      target: '≥ 10× lower',
      measured: `${fmt(optimized.overall.mean)} vs ${fmt(naive.overall.mean)} (${factor ? factor.toFixed(1) : 'n/a'}× lower)`,
      pass: factor == null ? null : factor >= 10,
    });
    const o = optimized.overall.modelCallsPerMessage;
    const n = naive.overall.modelCallsPerMessage;
    const reduction = o != null && n ? 1 - o / n : null;
    lines.push({
      check: 'model calls per message',
      target: '≥ 70 % fewer',
      measured: `${o} vs ${n} (${reduction == null ? 'n/a' : Math.round(reduction * 100) + ' % fewer'})`,
      pass: reduction == null ? null : reduction >= 0.7,
    });
  }
  if (optimized) {
    const simple = optimized.classes.simple!.p95;
    lines.push({
      check: 'simple p95 (optimized)',
      target: '≤ 50 ms',
      measured: fmt(simple),
      pass: simple == null ? null : simple <= 50,
    });
    const cached = optimized.cachedComplex.p95;
    lines.push({
      check: 'cached complex p95 (optimized, cache.plan hit)',
      target: '≤ 50 ms',
      measured: `${fmt(cached)} (n=${optimized.cachedComplex.count})`,
      pass: cached == null ? null : cached <= 50,
    });
    const uncached = optimized.uncachedComplex.p95;
    const limit = PLAN_LATENCY.p95Ms + 100;
    lines.push({
      check: 'uncached complex p95 (optimized)',
      target: `≤ model latency + 100 ms = ${limit} ms (emulated p95 ${PLAN_LATENCY.p95Ms} ms)`,
      measured: `${fmt(uncached)} (n=${optimized.uncachedComplex.count})`,
      pass: uncached == null ? null : uncached <= limit,
    });
  }
  for (const [name, a] of [
    ['optimized', optimized],
    ['naive', naive],
  ] as const) {
    if (!a) continue;
    lines.push({
      check: `peak RSS of the stack process (${name})`,
      target: '≤ 1024 MB',
      measured: `${a.peakRssMb} MB`,
      pass: a.peakRssMb <= 1024,
    });
  }
  return lines;
}

function markdown(report: Json): string {
  const out: string[] = [];
  const m = report.meta;
  out.push(`# /v1/context benchmark — ${m.startedAt}`, '');
  out.push(`Command: \`${m.command}\``, '');
  out.push(
    `Machine: ${m.machine.cpus} × ${m.machine.cpuModel}, ${m.machine.memGb} GB, ${m.machine.platform}, Node ${m.machine.node}. ` +
      `Stack child (API and worker in one process) pinned to core 0: ${m.pinned ? 'yes (taskset -c 0)' : 'no'}.`,
    '',
    m.options.store === 'postgres'
      ? `Store: PostgreSQL 18 with pgvector (the production layout: DATABASE_URL, graph and vectors in it), a separate server${m.pinned ? ' on core 1 with the Temporal dev server and this load generator' : ''}.`
      : "Store: embedded PGlite inside the stack process (the `npm start` default), so its SQL runs on the stack's core.",
    '',
  );
  out.push(
    `Load: ${m.options.sessions} sessions, think time ${m.options.thinkMs} ms (×0.5–1.5), ${m.options.durationS} s per pipeline after ${m.options.warmupS} s of warm-up; ` +
      `mix ${MIX.simple * 100} % simple / ${MIX.complex * 100} % complex / ${MIX.new_conversation * 100} % new conversation, ` +
      `${REPEAT_SHARE * 100} % repeats of a user's recent questions, Zipf(s=${ZIPF_S}) user activity. ` +
      `Emulated planning latency median ${PLAN_LATENCY.medianMs} ms, p95 ${PLAN_LATENCY.p95Ms} ms; embedding latency ${m.options.embedMs} ms.`,
    '',
  );
  const s = report.seeding;
  out.push('## Corpus', '');
  out.push(
    `${s.users} users × ≤${m.options.memories} memories = **${s.submitted} memories** (requested ${m.options.users} users${s.stoppedEarly ? `; stopped early to fit the ${m.options.seedBudgetS} s seeding budget` : ''}). ` +
      `Saved in ${s.saveSeconds} s, indexed ${s.indexed} (${s.failed} failed) in ${s.seconds} s: **${s.indexedPerSecond} memories/s** end to end ` +
      `(model latency during seeding: ${m.options.seedWithLatency ? 'real' : 'none'}).`,
    '',
    report.narratives.drained
      ? `The portraits the seeding left stale were regenerated before measuring (narrative queue drained in ${report.narratives.seconds} s).`
      : `The narrative queue was not drained within ${m.options.narrativeBudgetS} s (${report.narratives.remaining ?? 'unknown'} users still queued): their generation ran during the measurement.`,
    '',
  );
  out.push('## Comparison', '', '| check | target | measured | |', '|---|---|---|---|');
  for (const c of report.comparisons as ReturnType<typeof comparisons>) {
    out.push(`| ${c.check} | ${c.target} | ${c.measured} | ${c.pass == null ? '—' : c.pass ? 'PASS' : 'FAIL'} |`); // prettier-ignore
  }
  out.push('');
  if (report.floor) {
    const f = report.floor;
    out.push('## Floor: GET /healthz under the same concurrency', '');
    out.push(`n=${f.count}, p50 ${f.p50} ms, p95 ${f.p95} ms, p99 ${f.p99} ms, mean ${f.mean} ms, ${f.throughput} req/s, ${f.errors} errors`, ''); // prettier-ignore
  }
  for (const name of ['optimized', 'naive']) {
    const a = report.pipelines[name];
    if (!a) continue;
    out.push(`## ${name}`, '');
    out.push(`Switches: ${JSON.stringify(a.switches)}. ${a.warmupMessages} warm-up messages not counted. Peak RSS ${a.peakRssMb} MB (VmHWM ${a.vmHwmMb} MB).`, ''); // prettier-ignore
    out.push(
      '| class | n | p50 | p95 | p99 | mean | req/s | model calls/msg | errors | served as |',
    );
    out.push('|---|---|---|---|---|---|---|---|---|---|');
    const row = (label: string, r: Json) =>
      out.push(`| ${label} | ${r.count} | ${r.p50} | ${r.p95} | ${r.p99} | ${r.mean} | ${r.throughput} | ${r.modelCallsPerMessage} | ${r.errors} | ${r.servedAs ? JSON.stringify(r.servedAs) : ''} |`); // prettier-ignore
    row('all', a.overall);
    for (const [kind, r] of Object.entries(a.classes)) row(kind, r as Json);
    out.push('');
    out.push(`Plan sources: ${JSON.stringify(a.overall.planSources)}. Errors: ${JSON.stringify(a.overall.errorKinds)}.`); // prettier-ignore
    out.push(
      `Plan cache: hit rate ${a.cache.plan.hitRate ?? 'n/a'} of ${a.cache.plan.consulted} consulted, per tier ${JSON.stringify(a.cache.plan.tierRates)}, counts ${JSON.stringify(a.cache.plan.counts)}. ` +
        `Search cache: hit rate ${a.cache.search.hitRate ?? 'n/a'} of ${a.cache.search.consulted}, per tier ${JSON.stringify(a.cache.search.tierRates)}, counts ${JSON.stringify(a.cache.search.counts)}.`,
    );
    out.push(
      `Complex with a cached plan: ${JSON.stringify(a.cachedComplex)}; without: ${JSON.stringify(a.uncachedComplex)}; ` +
        `without and with a model call: ${JSON.stringify(a.uncachedComplexWithModelCall)}.`,
    );
    out.push(`Emulator generateContent calls during the run: ${a.emulator.generateContent.calls} (peak in flight ${a.emulator.generateContent.peakInFlight}).`, ''); // prettier-ignore
  }
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const startedAt = new Date();
  const random = seededRandom(o.seed);
  const { pin, runDir, dataDir, stackLog } = prepareRun('context-bench');

  const emulator = await startGeminiEmulator({ port: 0, responder });
  cleanups.push({ name: 'gemini emulator', run: () => emulator.close() });
  setEmulatorLatency(emulator, o.seedWithLatency, o.embedMs);
  log(`Gemini emulator on ${emulator.url}`);

  const temporal = await startBenchTemporal(projectRoot, runDir, pin);
  const databaseUrl =
    o.store === 'postgres' ? await startBenchPostgres(projectRoot, pin) : undefined;

  const adminKey = randomBytes(24).toString('hex');
  const stackOptions = {
    dataDir,
    temporalAddress: temporal.address,
    geminiUrl: emulator.url,
    adminKey,
    logFile: stackLog,
    pin,
    databaseUrl,
  };

  log('starting the optimized stack (seeding runs against it)');
  let stack = await startStackChild({ ...stackOptions, switches: {} });
  log(`stack pid ${stack.pid} on ${stack.url}${pin ? ' (pinned to core 0)' : ''}`);
  log(`seeding up to ${o.users} users × ${o.memories} memories (budget ${o.seedBudgetS} s)`);
  const seeded = await seed(stack.url, adminKey, o, random);
  checkInterrupted();
  log(
    `corpus: ${seeded.users.length} users, ${seeded.submitted} memories, ${seeded.indexed} indexed in ${seeded.seconds} s` +
      ` (${seeded.indexedPerSecond}/s)${seeded.stoppedEarly ? ', stopped early to fit the budget' : ''}`,
  );
  const narratives = await drainNarratives(stack.url, o.narrativeBudgetS);
  const background = await drainIndexing(temporal.address, o.narrativeBudgetS);
  setEmulatorLatency(emulator, true, o.embedMs);

  const pipelines: Record<string, Json> = {};
  let floor: Json | undefined;
  const runPipeline = async (name: 'optimized' | 'naive', switches: Record<string, string>) => {
    // A fresh process for each measured pipeline, so the peak RSS is that of the load alone.
    await stack.stop();
    log(`starting the ${name} stack on the same data`);
    stack = await startStackChild({ ...stackOptions, switches });
    if (!floor) {
      log(`floor: GET /healthz for ${o.floorS} s`);
      const f = await drive({ name: 'floor', url: stack.url, users: seeded.users, sessions: o.sessions, thinkMs: o.thinkMs, durationS: o.floorS, warmupS: 0, random, healthz: true }); // prettier-ignore
      const ok = f.samples.filter((s) => s.ok);
      floor = {
        ...summarize(ok.map((s) => s.ms)),
        throughput: Math.round((ok.length / f.seconds) * 10) / 10,
        errors: f.samples.length - ok.length,
      };
    }
    emulator.resetStats();
    log(`${name}: ${o.sessions} sessions for ${o.durationS} s`);
    const run = await drive({ name, url: stack.url, users: seeded.users, sessions: o.sessions, thinkMs: o.thinkMs, durationS: o.durationS, warmupS: o.warmupS, random, rss: () => stack.peak() }); // prettier-ignore
    checkInterrupted();
    const peak = stack.peak();
    pipelines[name] = {
      switches,
      warmupMessages: run.warmup,
      ...analyse(run.samples, run.seconds),
      peakRssMb: Math.round(Math.max(peak.rssKb, peak.hwmKb) / 1024),
      vmHwmMb: Math.round(peak.hwmKb / 1024),
      emulator: emulator.stats(),
    };
    log(
      `${name}: ${run.samples.length} messages, mean ${pipelines[name].overall.mean} ms, p95 ${pipelines[name].overall.p95} ms,` +
        ` ${pipelines[name].overall.modelCallsPerMessage} model calls/msg, peak RSS ${pipelines[name].peakRssMb} MB`,
    );
  };
  if (o.only !== 'naive') await runPipeline('optimized', {});
  const naiveSwitches = o.naiveModelLimit
    ? NAIVE_SWITCHES
    : { ...NAIVE_SWITCHES, MODEL_RATE_PER_S: '10000', MODEL_BURST: '10000' };
  if (o.only !== 'optimized') await runPipeline('naive', naiveSwitches);
  await stack.stop();

  const report = {
    meta: {
      startedAt: startedAt.toISOString(),
      command: `npx tsx bench/context-bench.ts ${process.argv.slice(2).join(' ')}`.trim(),
      options: o,
      pinned: pin,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memGb: Math.round((os.totalmem() / 1024 ** 3) * 10) / 10,
        platform: `${os.platform()} ${os.release()}`,
        node: process.versions.node,
      },
      planLatency: PLAN_LATENCY,
      mix: MIX,
      repeatShare: REPEAT_SHARE,
      zipfS: ZIPF_S,
    },
    seeding: { ...seeded, users: seeded.users.length },
    narratives,
    background,
    floor,
    pipelines,
    comparisons: comparisons(
      pipelines.optimized as (Analysis & { peakRssMb: number }) | undefined,
      pipelines.naive as (Analysis & { peakRssMb: number }) | undefined,
    ),
  };
  const reportsDir = path.join(projectRoot, 'bench', 'reports');
  fs.mkdirSync(reportsDir, { recursive: true });
  const stamp = startedAt.toISOString().replace(/[:.]/g, '-');
  const base = path.join(reportsDir, `context-${stamp}`);
  fs.writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
  const md = markdown(report);
  fs.writeFileSync(`${base}.md`, md);
  console.log('\n' + md);
  // Keep the stack log next to the report; the run directory is removed.
  fs.copyFileSync(stackLog, `${base}.stack.log`);
  await cleanup();
  log(`report: ${base}.md (and .json)`);
}

main().catch(async (error: unknown) => {
  if (isInterrupted()) {
    await cleanup();
    process.exit(130);
  }
  console.error(
    `context-bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
  );
  await cleanup();
  process.exit(1);
});
