import path from 'node:path';
import { z } from 'zod';

const port = (fallback: number) =>
  z.coerce
    .number({ error: 'expected a port number' })
    .int('expected an integer port')
    .min(0, 'expected a port between 0 and 65535')
    .max(65535, 'expected a port between 0 and 65535')
    .default(fallback);

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

  MEMORY_BUDGET_MB: positiveInt(2048, 1_048_576),

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
  if (problems.length > 0) throw new ConfigError(problems);

  return {
    ...raw,
    dataDir: path.resolve(raw.DATA_DIR),
    modelConfigured: Boolean(raw.GEMINI_API_KEY || raw.GEMINI_BASE_URL),
    embeddedTemporal: !raw.TEMPORAL_ADDRESS,
    temporalAddress: raw.TEMPORAL_ADDRESS ?? `127.0.0.1:${raw.TEMPORAL_PORT}`,
  };
}
