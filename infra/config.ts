// infra/: adapters to the outside world (the ports' implementations:
// PGlite/pg, pgvector/Qdrant, SQL graph/Neo4j, Redis, Gemini, the local model),
// configuration, logging, metrics, the memory monitor, and the runtime helpers
// the product itself needs (Temporal connection, schedules, CLI and dev server,
// process tools). May import core/ (and workflows/ to start them by type);
// never api/, app/ or tooling. This file is the one validated configuration.
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { projectRoot } from './project-root.ts';

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'expected a port number' })
    .int('expected an integer port')
    .min(0, 'expected a port between 0 and 65535')
    .max(65535, 'expected a port between 0 and 65535')
    .default(fallback);

/** Where `npm start`, `npm test` and `npm run setup` install the local sentence model. */
export const DEFAULT_MINILM_DIR = path.join(projectRoot, '.tools', 'minilm', 'model');

const positiveInt = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce
    .number({ error: 'expected a whole number' })
    .int('expected a whole number')
    .min(1, 'expected a number of at least 1')
    .max(max, `expected a number of at most ${max}`)
    .default(fallback);

const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'], { error: 'expected true or false' })
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

const optionalString = z
  .string()
  .trim()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

const optionalUrl = (what: string) =>
  optionalString.refine((v) => v === undefined || URL.canParse(v), `expected ${what}`);

const taskQueue = (fallback: string) =>
  z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'expected a task queue name (letters, digits, . _ -)')
    .default(fallback);

/** Every environment variable the product reads, with its default. */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port(8080),
  DATA_DIR: z.string().min(1).default('.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_KB: positiveInt(256, 10_240),
  READINESS_TIMEOUT_MS: positiveInt(1500, 30_000),

  DATABASE_URL: optionalUrl('a postgres:// connection URL'),
  PG_POOL_SIZE: positiveInt(20, 500),
  PG_STATEMENT_TIMEOUT_MS: positiveInt(5000, 600_000),
  PG_CONNECT_TIMEOUT_MS: positiveInt(3000, 60_000),

  TEMPORAL_ADDRESS: optionalString.refine(
    (v) => v === undefined || /^[^\s:]+:\d+$/.test(v),
    'expected host:port',
  ),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TLS: bool(false),
  TEMPORAL_TLS_CERT_PATH: optionalString,
  TEMPORAL_TLS_KEY_PATH: optionalString,
  TEMPORAL_API_KEY: optionalString,
  TEMPORAL_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  TEMPORAL_CLI_PATH: optionalString,
  TASK_QUEUE_SYSTEM: taskQueue('memory-system'),
  TASK_QUEUE_INDEXING: taskQueue('memory-indexing'),
  TASK_QUEUE_NARRATIVES: taskQueue('memory-narratives'),
  TASK_QUEUE_CONSOLIDATION: taskQueue('memory-consolidation'),
  TASK_QUEUE_LOADTESTS: taskQueue('memory-loadtests'),
  LOADTEST_MODEL_QUOTA_PER_MIN: positiveInt(1000, 1_000_000),

  CONSOLIDATION_TIMEZONE: z
    .string()
    .default('UTC')
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'expected an IANA time zone such as Europe/Lisbon'),
  CONSOLIDATION_HOUR: z.coerce
    .number({ error: 'expected an hour from 0 to 23' })
    .int('expected an hour from 0 to 23')
    .min(0, 'expected an hour from 0 to 23')
    .max(23, 'expected an hour from 0 to 23')
    .default(2),
  CONSOLIDATION_MINUTE: z.coerce
    .number({ error: 'expected a minute from 0 to 59' })
    .int('expected a minute from 0 to 59')
    .min(0, 'expected a minute from 0 to 59')
    .max(59, 'expected a minute from 0 to 59')
    .default(0),
  CONSOLIDATION_CATCHUP_HOURS: positiveInt(4, 24),
  CONSOLIDATION_SIMILARITY: z.coerce
    .number({ error: 'expected a cosine similarity in (0, 1]' })
    .gt(0, 'expected a cosine similarity in (0, 1]')
    .max(1, 'expected a cosine similarity in (0, 1]')
    .default(0.95),
  CONSOLIDATION_CONCURRENCY: positiveInt(2, 8),

  WORKER_SYSTEM_CONCURRENCY: positiveInt(4, 1000),
  WORKER_INDEXING_CONCURRENCY: positiveInt(8, 1000),
  WORKER_NARRATIVE_CONCURRENCY: positiveInt(3, 1000),
  WORKER_MAX_ACTIVITIES_PER_S: positiveInt(200, 100_000),
  MODEL_QUEUE_ACTIVITIES_PER_S: positiveInt(2, 10_000),
  WORKER_MAX_CACHED_WORKFLOWS: positiveInt(100, 100_000),
  NODE_HEAP_MB: positiveInt(1024, 1_048_576),

  NARRATIVE_MAX_IN_FLIGHT: positiveInt(3, 100),
  NARRATIVE_MEMORY_POLL_S: positiveInt(10, 3600),
  NARRATIVE_PAUSE_AT_PCT: positiveInt(70, 100),
  NARRATIVE_RESUME_AT_PCT: positiveInt(65, 100),
  NARRATIVE_MAX_QUEUED: positiveInt(10_000, 100_000),
  NARRATIVE_COALESCE_MS: positiveInt(1000, 60_000),
  NARRATIVE_FEED_INTERVAL_S: positiveInt(21_600, 7 * 86_400),
  NARRATIVE_ACTIVE_WINDOW_H: positiveInt(48, 24 * 365),

  MEMORY_BUDGET_MB: positiveInt(2048, 1_048_576),
  MEMORY_SAMPLE_INTERVAL_MS: positiveInt(1000, 60_000),
  MEMORY_ALERT_WEBHOOK_URL: optionalUrl('an http(s) URL to POST memory alerts to'),
  MEMORY_ALERT_WEBHOOK_TIMEOUT_MS: positiveInt(2000, 60_000),
  METRICS_ENABLED: bool(true),
  TEMPORAL_METRICS_PORT: port(0),

  ADMIN_API_KEY: optionalString.refine(
    (v) => v === undefined || v.length >= 16,
    'expected at least 16 characters',
  ),
  MAX_MEMORY_CHARS: positiveInt(5000, 100_000),
  MAX_TAGS: positiveInt(10, 100),

  QDRANT_URL: optionalUrl('an http(s) URL of a Qdrant server'),
  QDRANT_API_KEY: optionalString,
  QDRANT_COLLECTION: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,100}$/, 'expected a collection name (letters, digits, _ -)')
    .default('memories'),
  NEO4J_URL: optionalString.refine(
    (v) => v === undefined || /^(bolt|neo4j)(\+s|\+ssc)?:\/\/\S+$/.test(v),
    'expected a bolt:// or neo4j:// URL',
  ),
  NEO4J_USER: z.string().default('neo4j'),
  NEO4J_PASSWORD: z.string().default(''),
  NEO4J_DATABASE: optionalString,

  REDIS_URL: optionalUrl('a redis:// URL'),

  CLASSIFIER_ENABLED: bool(true),
  PLAN_CACHE_ENABLED: bool(true),
  PLAN_CACHE_MB: positiveInt(200, 65_536),
  PLAN_CACHE_TTL_S: positiveInt(1800, 86_400),
  PLAN_CACHE_L3_ENABLED: bool(true),
  SEARCH_CACHE_ENABLED: bool(true),
  SEARCH_CACHE_MB: positiveInt(100, 65_536),
  SEARCH_CACHE_TTL_S: positiveInt(600, 86_400),
  QUERY_EMBED_CACHE_ENABLED: bool(true),
  QUERY_EMBED_CACHE_MB: positiveInt(16, 4096),
  QUERY_EMBED_CACHE_TTL_S: positiveInt(86_400, 604_800),
  PARALLEL_STRATEGIES: bool(true),
  STRATEGY_CONCURRENCY: positiveInt(6, 64),
  STRATEGY_TIMEOUT_MS: positiveInt(2000, 60_000),
  VECTOR_BATCHING_ENABLED: bool(true),
  VECTOR_BATCH_WINDOW_MS: positiveInt(3, 1000),
  VECTOR_BATCH_MAX: positiveInt(10, 256),
  MODEL_RATE_PER_S: positiveInt(5, 10_000),
  MODEL_BURST: positiveInt(10, 10_000),
  MODEL_TOKEN_WAIT_MS: positiveInt(250, 60_000),

  EMBED_BATCH_WINDOW_MS: positiveInt(10, 1000),
  EMBED_BATCH_MAX: positiveInt(64, 1000),
  EMBEDDER: z
    .enum(['auto', 'local', 'gemini', 'hashing'], {
      error: 'expected auto, local, gemini or hashing',
    })
    .default('auto'),
  MINILM_MODEL_DIR: z.string().trim().min(1).default(DEFAULT_MINILM_DIR),
  // The cores this process may use (a `taskset` pin counts), at most 4: one model call
  // then uses them all, and a small sentence model gains little from more.
  EMBED_THREADS: positiveInt(Math.min(os.availableParallelism(), 4), 64),
  VECTOR_SPACE_REFRESH_MS: positiveInt(10_000, 3_600_000),
  INDEX_RECONCILE_INTERVAL_S: positiveInt(60, 86_400),
  INDEX_RECONCILE_AFTER_S: positiveInt(60, 86_400),

  GEMINI_API_KEY: optionalString,
  GEMINI_BASE_URL: optionalUrl('an http(s) URL of a Gemini-compatible endpoint'),
  GEMINI_MODEL: z.string().min(1).default('gemini-2.5-flash'),
  GEMINI_EMBEDDING_MODEL: z.string().min(1).default('text-embedding-004'),
  GEMINI_EMBEDDING_DIMENSION: positiveInt(768, 4096),
  GEMINI_TIMEOUT_MS: positiveInt(12_000, 600_000),
});

type RawConfig = z.output<typeof configSchema>;

/** Validated configuration with derived settings. */
export interface Config extends RawConfig {
  /** Absolute data directory. */
  dataDir: string;
  /** True when a model endpoint (Google or the emulator) is configured. */
  modelConfigured: boolean;
  /** The embedder in use: `EMBEDDER`, with `auto` resolved (Gemini's when a model is configured). */
  embedderKind: 'local' | 'gemini' | 'hashing';
  /** True when the project must start its own Temporal dev server. */
  embeddedTemporal: boolean;
  /** The Temporal frontend address the clients use. */
  temporalAddress: string;
}

/** Raised when the environment does not describe a usable configuration. */
export class ConfigError extends Error {
  readonly problems: { variable: string; message: string }[];
  constructor(problems: { variable: string; message: string }[]) {
    super(
      `invalid configuration: ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/**
 * Reads and validates the configuration once. Throws `ConfigError` naming
 * every bad variable and what it expects.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input = Object.fromEntries(
    Object.keys(configSchema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const parsed = configSchema.safeParse(input);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => ({
        variable: String(issue.path[0] ?? 'environment'),
        message: `${issue.message} (got ${JSON.stringify(input[String(issue.path[0])] ?? null)})`,
      })),
    );
  }
  const raw = parsed.data;
  const problems: { variable: string; message: string }[] = [];
  if (raw.TEMPORAL_TLS_CERT_PATH && !raw.TEMPORAL_TLS_KEY_PATH) {
    problems.push({
      variable: 'TEMPORAL_TLS_KEY_PATH',
      message: 'required with TEMPORAL_TLS_CERT_PATH',
    });
  }
  if (raw.TEMPORAL_TLS_KEY_PATH && !raw.TEMPORAL_TLS_CERT_PATH) {
    problems.push({
      variable: 'TEMPORAL_TLS_CERT_PATH',
      message: 'required with TEMPORAL_TLS_KEY_PATH',
    });
  }
  if ((raw.TEMPORAL_API_KEY || raw.TEMPORAL_TLS_CERT_PATH) && !raw.TEMPORAL_ADDRESS) {
    problems.push({
      variable: 'TEMPORAL_ADDRESS',
      message: 'required when Temporal TLS or an API key is configured',
    });
  }
  if (raw.EMBEDDER === 'gemini' && !raw.GEMINI_API_KEY && !raw.GEMINI_BASE_URL) {
    problems.push({
      variable: 'EMBEDDER',
      message: 'gemini needs GEMINI_API_KEY or GEMINI_BASE_URL',
    });
  }
  if (raw.NARRATIVE_RESUME_AT_PCT >= raw.NARRATIVE_PAUSE_AT_PCT) {
    problems.push({
      variable: 'NARRATIVE_RESUME_AT_PCT',
      message: `must be below NARRATIVE_PAUSE_AT_PCT (${raw.NARRATIVE_PAUSE_AT_PCT})`,
    });
  }
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    ...raw,
    dataDir: path.resolve(raw.DATA_DIR),
    modelConfigured: Boolean(raw.GEMINI_API_KEY || raw.GEMINI_BASE_URL),
    embedderKind:
      raw.EMBEDDER === 'auto'
        ? raw.GEMINI_API_KEY || raw.GEMINI_BASE_URL
          ? ('gemini' as const)
          : ('local' as const)
        : raw.EMBEDDER,
    embeddedTemporal: !raw.TEMPORAL_ADDRESS,
    temporalAddress: raw.TEMPORAL_ADDRESS ?? `127.0.0.1:${raw.TEMPORAL_PORT}`,
  };
}
