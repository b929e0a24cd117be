// The context benchmark's command line (documented in bench/context-bench.ts) and
// the fixed shape of the load it drives.
import { cliOptions } from '../../scripts/cli-options.ts';

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
  store: 'postgres' | 'pglite';
  seed: number;
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
  store: 'postgres',
  seed: 1,
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
    } else if (flag === '--store') {
      const v = value();
      if (v !== 'postgres' && v !== 'pglite') throw new Error('--store expects postgres or pglite');
      o.store = v;
    } else if (flag === '--only') {
      const v = value();
      if (v !== 'optimized' && v !== 'naive' && v !== 'both') {
        throw new Error('--only expects optimized, naive or both');
      }
      o.only = v;
    } else {
      const key = NUMERIC[flag];
      if (!key) throw new Error(`unknown option ${flag} (see --help)`);
      const n = Number(value());
      if (!Number.isFinite(n) || n < 0) throw new Error(`${flag} expects a number, got ${value()}`);
      (o[key] as number) = n;
    }
  }
  if (o.users < 1 || o.memories < 1 || o.sessions < 1 || o.durationS <= 0) {
    throw new Error('--users, --memories, --sessions and --duration-s must be at least 1');
  }
  if (o.limiterCompare && o.only === 'naive') {
    throw new Error('--limiter-compare measures the optimized pipeline: drop --only naive');
  }
  return o;
}
