import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { z } from 'zod';
import { serveRpc } from '../bench/kit/child-rpc.ts';
import {
  BUILT_IN_ANSWERS,
  startGeminiEmulator,
  type GeminiEmulator,
  type GeminiEmulatorSettings,
} from '../tools/gemini-emulator/emulator.ts';

const USAGE = `Usage: npm run emulator -- [options]   (each option also reads the env var shown)
  --port <n>             GEMINI_EMULATOR_PORT        default 8765 (0 picks a free port)
  --host <addr>          GEMINI_EMULATOR_HOST        default 127.0.0.1
  --seed <n>             GEMINI_EMULATOR_SEED        seeds latency and failure draws
  --api-key <key>        GEMINI_EMULATOR_API_KEY     require this key (default: accept any)
  --dimension <n>        GEMINI_EMULATOR_DIMENSION   default embedding length (768)
  --answers <kind>       GEMINI_EMULATOR_ANSWERS     product (default): plans, entities and
                         portraits for the product's prompts, an echo of anything else;
                         echo: an echo of every prompt (the product then plans heuristically)
  --latency-ms <ms>      GEMINI_EMULATOR_LATENCY_MS      median latency, every method
  --latency-p95-ms <ms>  GEMINI_EMULATOR_LATENCY_P95_MS  p95 (log-normal); omit for fixed
  --rate-limited <p>     GEMINI_EMULATOR_RATE_LIMITED    share of calls answered 429
  --server-error <p>     GEMINI_EMULATOR_SERVER_ERROR    share of calls answered 500
  --timeout-rate <p>     GEMINI_EMULATOR_TIMEOUT_RATE    share of calls never answered
  --retry-after <s>      GEMINI_EMULATOR_RETRY_AFTER_S   seconds advertised by 429s (2)
  --methods <json>       GEMINI_EMULATOR_METHODS     per-method behaviour, e.g.
                         '{"generateContent":{"latency":{"medianMs":400,"p95Ms":1500}}}'
Prints the base URL on stdout (logs go to stderr); use it as GEMINI_BASE_URL.
Started with an IPC channel (as the benchmarks start it), it also takes configure, stats
and resetStats requests over it, and exits when its parent goes.`;

const flags = {
  port: 'GEMINI_EMULATOR_PORT',
  host: 'GEMINI_EMULATOR_HOST',
  seed: 'GEMINI_EMULATOR_SEED',
  'api-key': 'GEMINI_EMULATOR_API_KEY',
  dimension: 'GEMINI_EMULATOR_DIMENSION',
  answers: 'GEMINI_EMULATOR_ANSWERS',
  'latency-ms': 'GEMINI_EMULATOR_LATENCY_MS',
  'latency-p95-ms': 'GEMINI_EMULATOR_LATENCY_P95_MS',
  'rate-limited': 'GEMINI_EMULATOR_RATE_LIMITED',
  'server-error': 'GEMINI_EMULATOR_SERVER_ERROR',
  'timeout-rate': 'GEMINI_EMULATOR_TIMEOUT_RATE',
  'retry-after': 'GEMINI_EMULATOR_RETRY_AFTER_S',
  methods: 'GEMINI_EMULATOR_METHODS',
} as const;

const number = z.coerce.number().nonnegative().optional();
const rate = z.coerce.number().min(0).max(1).optional();
const cliSchema = z.object({
  port: z.coerce.number().int().min(0).max(65535).default(8765),
  host: z.string().min(1).default('127.0.0.1'),
  seed: z.coerce.number().int().optional(),
  'api-key': z.string().min(1).optional(),
  dimension: z.coerce.number().int().min(1).max(4096).optional(),
  answers: z
    .enum(Object.keys(BUILT_IN_ANSWERS) as [keyof typeof BUILT_IN_ANSWERS])
    .default('product'),
  'latency-ms': number,
  'latency-p95-ms': number,
  'rate-limited': rate,
  'server-error': rate,
  'timeout-rate': rate,
  'retry-after': number,
  methods: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as GeminiEmulatorSettings['methods'];
      } catch {
        ctx.addIssue({ code: 'custom', message: 'expected a JSON object' });
        return z.NEVER;
      }
    })
    .optional(),
});

function readSettings(argv: string[], env: NodeJS.ProcessEnv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      ...Object.fromEntries(Object.keys(flags).map((k) => [k, { type: 'string' as const }])),
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  const given = values as Record<string, string | boolean | undefined>;
  const raw = Object.fromEntries(
    Object.entries(flags).map(([flag, variable]) => [
      flag,
      given[flag] ?? (env[variable] || undefined),
    ]),
  );
  const parsed = cliSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => {
      const flag = String(i.path[0]) as keyof typeof flags;
      return `--${flag} / ${flags[flag]}: ${i.message}`;
    });
    throw new Error(`invalid emulator options: ${problems.join('; ')}`);
  }
  return parsed.data;
}

async function main(): Promise<void> {
  const options = readSettings(process.argv.slice(2), process.env);
  if (!options) {
    console.log(USAGE);
    return;
  }
  const logger = pino(
    { name: 'gemini-emulator', level: process.env.LOG_LEVEL ?? 'info' },
    pino.destination(2),
  );
  const latencyMs = options['latency-ms'];
  const emulator = await startGeminiEmulator({
    port: options.port,
    host: options.host,
    logger,
    ...(options.seed === undefined ? {} : { seed: options.seed }),
    ...(options['api-key'] === undefined ? {} : { apiKey: options['api-key'] }),
    ...(options.dimension === undefined ? {} : { defaultDimension: options.dimension }),
    responder: options.answers,
    methods: {
      all: {
        latency:
          latencyMs === undefined
            ? null
            : { medianMs: latencyMs, p95Ms: options['latency-p95-ms'] ?? latencyMs },
        failures: {
          rateLimited: options['rate-limited'] ?? 0,
          serverError: options['server-error'] ?? 0,
          timeout: options['timeout-rate'] ?? 0,
          retryAfterSeconds: options['retry-after'] ?? 2,
        },
      },
      ...options.methods,
    },
  });
  const { 'api-key': requiredKey, ...shown } = options;
  logger.info(
    { url: emulator.url, ...shown, apiKeyRequired: requiredKey !== undefined },
    'gemini emulator listening',
  );
  console.log(emulator.url);

  const stop = (signal: NodeJS.Signals | 'disconnect') => {
    logger.info({ signal, stats: emulator.stats() }, 'gemini emulator stopping');
    emulator.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'gemini emulator failed to close');
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  serveOverIpc(emulator, () => stop('disconnect'));
}

/** For a parent that started this process with an IPC channel: settings, counters, its URL. */
function serveOverIpc(emulator: GeminiEmulator, stop: () => void) {
  serveRpc(
    {
      // Over the channel only data travels: a responder is a built-in one's name.
      configure: (settings) => emulator.configure(settings as GeminiEmulatorSettings),
      stats: () => emulator.stats(),
      resetStats: () => emulator.resetStats(),
    },
    { url: emulator.url, port: emulator.port },
    stop,
  );
}

main().catch((error: unknown) => {
  console.error('gemini emulator failed to start:', error instanceof Error ? error.message : error);
  process.exit(1);
});
