// The context benchmark's command line (documented in bench/context-bench.ts) and
// the fixed shape of the load it drives.
import { cliOptions } from '../../scripts/cli-options.ts';
import { UsageError } from '../kit/lifecycle.ts';

/** Emulated planning latency: the real model's median and p95. */
export const PLAN_LATENCY = { medianMs: 1500, p95Ms: 3000 };
/** Share of each message kind among new messages. */
export const MIX = { simple: 0.35, complex: 0.5, new_conversation: 0.15 };
/** Share of messages that repeat one of the user's recent questions. */
export const REPEAT_SHARE = 0.2;
/** How many recent questions per user a repeat is drawn from. */
export const RECENT_PER_USER = 8;
/** Zipf exponent of user activity. */
export const ZIPF_S = 1.0;
export const PROGRESS_EVERY_MS = 5_000;
/** The optimisation switches, all off: the naive pipeline. */
export const NAIVE_SWITCHES = {
  CLASSIFIER_ENABLED: 'false',
  PLAN_CACHE_ENABLED: 'false',
  SEARCH_CACHE_ENABLED: 'false',
  PARALLEL_STRATEGIES: 'false',
  VECTOR_BATCHING_ENABLED: 'false',
  QUERY_EMBED_CACHE_ENABLED: 'false',
};
/** The optimized pipeline with the per-user rate limiter off: `--limiter-compare`. */
export const LIMITER_OFF = { RATE_LIMIT_ENABLED: 'false' };

export interface Options {
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
  /** Also drive the optimized pipeline with the rate limiter off (`optimized-nolimit`). */
  limiterCompare: boolean;
  only: 'both' | 'optimized' | 'naive';
  /** `default`: what `npm start` runs; `postgres`: the bench's own PG18 and Temporal; `pglite`. */
  store: 'default' | 'postgres' | 'pglite';
  /** `emulator`: the Gemini emulator plans and extracts; `none`: no model, as \`npm start\` ships. */
  model: 'emulator' | 'none';
  seed: number;
  /** Share of chat messages that are saves (`POST /v1/memories` of one fact). */
  saveShare: number;
  /** Background saves per second during the measurement (open loop), 0 for none. */
  saveRate: number;
  /** How long after a run its acknowledged saves may take to be indexed. */
  saveIndexWaitS: number;
  /** API processes (PROCESSES=api,worker API_PROCESSES=N); 0: the product's default. */
  processes: number;
  /** Worker processes (WORKER_PROCESSES=N, PROCESSES=api,worker); 0: the product's default. */
  workers: number;
  /** Throughput at the p95 target with 1 and 2 pinned API processes, instead of the pipelines. */
  scaleOut: boolean;
  /** Seconds per offered-load step of `--scale-out`. */
  stepS: number;
  /** The first offered load of `--scale-out`, messages/s; each step adds a quarter. */
  startRate: number;
  /** Memories saved at once to time indexing with 1 and 2 workers (`--scale-out`). */
  indexBatch: number;
}

const DEFAULTS: Options = {
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
  limiterCompare: false,
  only: 'both',
  store: 'default',
  model: 'emulator',
  seed: 1,
  saveShare: 0.1,
  saveRate: 0,
  saveIndexWaitS: 60,
  processes: 0,
  workers: 0,
  scaleOut: false,
  stepS: 15,
  startRate: 10,
  indexBatch: 1000,
};

const NUMERIC: Record<string, keyof Options> = {
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
  '--save-share': 'saveShare',
  '--save-rate': 'saveRate',
  '--save-index-wait-s': 'saveIndexWaitS',
  '--processes': 'processes',
  '--workers': 'workers',
  '--step-s': 'stepS',
  '--start-rate': 'startRate',
  '--index-batch': 'indexBatch',
};

export function parseArgs(argv: string[]): Options {
  const o: Options = { ...DEFAULTS };
  const usage = new URL('../context-bench.ts', import.meta.url).href;
  for (const { flag, value } of cliOptions(argv, usage)) {
    if (flag === '--seed-with-latency') {
      o.seedWithLatency = true;
    } else if (flag === '--naive-model-limit') {
      o.naiveModelLimit = true;
    } else if (flag === '--limiter-compare') {
      o.limiterCompare = true;
    } else if (flag === '--scale-out') {
      o.scaleOut = true;
    } else if (flag === '--store') {
      const v = value();
      if (v !== 'default' && v !== 'postgres' && v !== 'pglite') {
        throw new UsageError('--store expects default, postgres or pglite');
      }
      o.store = v;
    } else if (flag === '--model') {
      const v = value();
      if (v !== 'emulator' && v !== 'none')
        throw new UsageError('--model expects emulator or none');
      o.model = v;
    } else if (flag === '--only') {
      const v = value();
      if (v !== 'optimized' && v !== 'naive' && v !== 'both') {
        throw new UsageError('--only expects optimized, naive or both');
      }
      o.only = v;
    } else {
      const key = NUMERIC[flag];
      if (!key) throw new UsageError(`unknown option ${flag} (see --help)`);
      const n = Number(value());
      if (!Number.isFinite(n) || n < 0)
        throw new UsageError(`${flag} expects a number, got ${value()}`);
      (o[key] as number) = n;
    }
  }
  if (o.users < 1 || o.memories < 1 || o.sessions < 1 || o.durationS <= 0) {
    throw new UsageError('--users, --memories, --sessions and --duration-s must be at least 1');
  }
  if (o.sessions > o.users && !o.scaleOut) {
    throw new UsageError('--sessions must not exceed --users: a chat session speaks for one user at a time'); // prettier-ignore
  }
  if (o.limiterCompare && o.only === 'naive') {
    throw new UsageError('--limiter-compare measures the optimized pipeline: drop --only naive');
  }
  checkLayout(o);
  return o;
}

/** The layout options together: PGlite is one process, shares are shares. */
function checkLayout(o: Options) {
  if (o.saveShare >= 1) throw new UsageError('--save-share is a share of messages: below 1');
  if (o.store === 'pglite' && (o.processes > 0 || o.workers > 0 || o.scaleOut)) {
    throw new UsageError('--processes, --workers and --scale-out need a shared database: not --store pglite'); // prettier-ignore
  }
  if (o.scaleOut && (o.processes > 0 || o.workers > 0)) {
    throw new UsageError('--scale-out sets the processes itself (1 then 2): drop --processes and --workers'); // prettier-ignore
  }
}

/** The product's environment for `--processes` and `--workers` (none when neither is given). */
export function processEnv(apiProcesses: number, workers: number): Record<string, string> {
  if (apiProcesses <= 0 && workers <= 0) return {};
  return {
    PROCESSES: 'api,worker',
    API_PROCESSES: String(Math.max(1, apiProcesses)),
    WORKER_PROCESSES: String(Math.max(1, workers)),
  };
}
