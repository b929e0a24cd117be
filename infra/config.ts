// infra/: adapters to the outside world (the ports' implementations:
// PGlite/pg, pgvector/Qdrant, SQL graph/Neo4j, Redis, Gemini, the local model),
// configuration, logging, metrics, the memory monitor, and the runtime helpers
// the product itself needs (Temporal connection, schedules, CLI and dev server,
// process tools). May import core/ (and workflows/ to start them by type);
// never api/, app/ or tooling. This file is the one validated configuration.
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import {
  bool,
  ConfigError,
  commaList,
  isHostName,
  isLoopbackHost,
  isOrigin,
  isSecretVariable,
  optionalString,
  optionalUrl,
  pgFields,
  port,
  positiveInt,
  taskQueue,
  wholeNumber,
} from './config-fields.ts';
import { databaseMode, layoutFields, layoutProblems, type DatabaseMode } from './config-layout.ts';
import { projectRoot } from './project-root.ts';

export { ConfigError } from './config-fields.ts';

/** Where `npm start`, `npm test` and `npm run setup` install the local sentence models. */
export const DEFAULT_MINILM_DIR = path.join(projectRoot, '.tools', 'minilm', 'model');
export const DEFAULT_E5_DIR = path.join(projectRoot, '.tools', 'e5-small-v2-q');

/** Every environment variable the product reads, with its default. */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: port(8080),
  DATA_DIR: z.string().min(1).default('.data'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z
    .enum(['auto', 'pretty', 'json'], { error: 'expected pretty, json or auto' })
    .default('auto'),
  BODY_LIMIT_KB: positiveInt(256, 10_240),
  READINESS_TIMEOUT_MS: positiveInt(1500, 30_000),

  DATABASE_URL: optionalUrl('a postgres:// connection URL'),
  ...layoutFields,
  ...pgFields,

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
  OPS_TOKEN: optionalString.refine(
    (v) => v === undefined || /^[A-Za-z0-9._~-]{16,256}$/.test(v),
    'expected 16 to 256 characters of letters, digits and . _ ~ - (e.g. openssl rand -hex 32)',
  ),
  RATE_LIMIT_ENABLED: bool(true),
  RATE_LIMIT_PER_S: positiveInt(20, 100_000),
  RATE_LIMIT_BURST: positiveInt(60, 1_000_000),
  RATE_LIMIT_ADMIN_PER_S: positiveInt(100, 100_000),
  RATE_LIMIT_ADMIN_BURST: positiveInt(500, 1_000_000),
  USER_CONCURRENCY: positiveInt(2, 10_000),
  MCP_MAX_SESSIONS: positiveInt(1000, 1_000_000),
  MCP_MAX_SESSIONS_PER_USER: positiveInt(20, 10_000),
  MCP_ALLOWED_ORIGINS: commaList('http(s) origins such as https://chat.example.com', isOrigin),
  MCP_ALLOWED_HOSTS: commaList('host names such as memory.example.com', isHostName),
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
  VECTOR_BATCH_WINDOW_MS: wholeNumber(0, 1000),
  VECTOR_BATCH_MAX: positiveInt(10, 256),
  MODEL_RATE_PER_S: positiveInt(5, 10_000),
  MODEL_BURST: positiveInt(10, 10_000),
  MODEL_TOKEN_WAIT_MS: positiveInt(250, 60_000),

  EMBED_BATCH_WINDOW_MS: positiveInt(10, 1000),
  EMBED_BATCH_MAX: positiveInt(64, 1000),
  EMBEDDER: z
    .enum(['auto', 'local', 'e5', 'minilm', 'gemini', 'hashing'], {
      error: 'expected auto, local, e5, minilm, gemini or hashing',
    })
    .default('auto'),
  MINILM_MODEL_DIR: z.string().trim().min(1).default(DEFAULT_MINILM_DIR),
  E5_MODEL_DIR: z.string().trim().min(1).default(DEFAULT_E5_DIR),
  // The cores this process may use (a `taskset` pin counts), at most 4: one model call
  // then uses them all, and a small sentence model gains little from more.
  EMBED_THREADS: positiveInt(Math.min(os.availableParallelism(), 4), 64),
  VECTOR_SPACE_REFRESH_MS: positiveInt(10_000, 3_600_000),
  // 15 s + 30 s: a request lost while Temporal was away is asked again within a minute of its return.
  INDEX_RECONCILE_INTERVAL_S: positiveInt(15, 86_400),
  INDEX_RECONCILE_AFTER_S: positiveInt(30, 86_400),
  INDEX_REQUEST_TIMEOUT_MS: positiveInt(2000, 60_000),
  INDEX_RECONCILE_MAX_REQUESTS: positiveInt(20, 1000),
  // Longer than the largest VECTOR_SPACE_REFRESH_MS: no process still reads a space this long retired.
  VECTOR_SPACE_DROP_AFTER_MS: positiveInt(7_200_000, 30 * 86_400_000),

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
  /** `EMBEDDER` resolved: `auto` is Gemini's with a model configured, else `local`: e5. */
  embedderKind: 'e5' | 'minilm' | 'gemini' | 'hashing';
  /** Where the relational store lives: DATABASE_URL, a PostgreSQL the product runs, or PGlite. */
  database: DatabaseMode;
  /** True when the project must start its own Temporal dev server. */
  embeddedTemporal: boolean;
  /** The Temporal frontend address the clients use. */
  temporalAddress: string;
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
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? 'environment');
        const got = isSecretVariable(variable)
          ? '(value not shown: it may hold a secret)'
          : `(got ${JSON.stringify(input[variable] ?? null)})`;
        return { variable, message: `${issue.message} ${got}` };
      }),
    );
  }
  const raw = parsed.data;
  const problems: { variable: string; message: string }[] = [];
  for (const [has, needs] of [
    ['TEMPORAL_TLS_CERT_PATH', 'TEMPORAL_TLS_KEY_PATH'],
    ['TEMPORAL_TLS_KEY_PATH', 'TEMPORAL_TLS_CERT_PATH'],
  ] as const) {
    if (raw[has] && !raw[needs])
      problems.push({ variable: needs, message: `required with ${has}` });
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
  if (!isLoopbackHost(raw.HOST) && !raw.OPS_TOKEN) {
    problems.push({
      variable: 'OPS_TOKEN',
      message:
        `required when HOST is not a loopback address (HOST=${raw.HOST} would serve /metrics, ` +
        '/dashboard and /status beyond this machine); set OPS_TOKEN or listen on 127.0.0.1',
    });
  }
  problems.push(...layoutProblems(raw));
  if (problems.length > 0) throw new ConfigError(problems);

  const modelConfigured = Boolean(raw.GEMINI_API_KEY || raw.GEMINI_BASE_URL);
  const embedder = raw.EMBEDDER === 'auto' && modelConfigured ? 'gemini' : raw.EMBEDDER;
  return {
    ...raw,
    dataDir: path.resolve(raw.DATA_DIR),
    modelConfigured,
    embedderKind: embedder === 'auto' || embedder === 'local' ? 'e5' : embedder,
    database: databaseMode(raw),
    embeddedTemporal: !raw.TEMPORAL_ADDRESS,
    temporalAddress: raw.TEMPORAL_ADDRESS ?? `127.0.0.1:${raw.TEMPORAL_PORT}`,
  };
}
