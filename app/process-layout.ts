import type { Logger } from 'pino';
import { createTokenBucketServer } from '../infra/cluster/ipc-token-buckets.ts';
import type { Config } from '../infra/config.ts';
import { errorMessage } from '../infra/process/process-tools.ts';
import { superviseService, type Supervisor } from '../infra/process/supervisor.ts';
import { LOCAL_DATABASE_ENV, SHARED_LIMITS_ENV } from './layout-child.ts';
import { startChild, type ChildKind, type ChildOptions } from './layout-children.ts';
import { startSharedServices } from './layout-services.ts';
import { bucketPolicies } from './shared-limits.ts';
import { createShutdown } from './shutdown.ts';

/** `npm start` with `PROCESSES=api,worker`: the parent's view of what it runs. */
export interface ProcessLayout {
  apiUrl: string;
  temporalAddress: string;
  temporalUiUrl: string | null;
  /** `2 API processes, 1 worker process, PostgreSQL 18 at …`. */
  summary: string;
  /** API processes (finish their requests), then workers (drain), then PostgreSQL and Temporal. */
  stop(): Promise<void>;
}

/** After SIGTERM, how long an API process may finish its requests (the server cuts at 5 s). */
const API_STOP_MS = 30_000;
/** After SIGTERM, how long a worker process may drain its activities. */
const WORKER_STOP_MS = 120_000;

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 'es'}`;

/**
 * Starts `count` supervised children of one kind at once; when one cannot
 * start, stops those that did and throws.
 */
async function superviseChildren(
  kind: ChildKind,
  count: number,
  logger: Logger,
  options: Omit<ChildOptions, 'kind'>,
): Promise<Supervisor[]> {
  const started = await Promise.allSettled(
    Array.from({ length: count }, (_, i) =>
      superviseService({
        name: `${kind} process ${i + 1}`,
        start: () => startChild({ kind, ...options }),
        log: (level, msg, fields) => logger[level]({ component: 'process-layout', ...fields }, msg),
      }),
    ),
  );
  const supervisors = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) {
    await stopAll(supervisors);
    throw new Error(`a ${kind} process could not start: ${errorMessage(failed.reason)}`);
  }
  return supervisors;
}

async function stopAll(supervisors: Supervisor[]): Promise<void> {
  await Promise.all(supervisors.map((s) => s.stop()));
}

/**
 * The parent of `PROCESSES=api,worker`: starts the shared services itself
 * (the local PostgreSQL and Temporal dev server unless DATABASE_URL and
 * TEMPORAL_ADDRESS name others), holds the per-user and model planning
 * buckets for its children unless Redis holds them, then starts
 * `WORKER_PROCESSES` worker processes and `API_PROCESSES` API processes on
 * one PORT (Node cluster), each restarted with a backoff when it dies.
 */
export async function startProcessLayout(config: Config, logger: Logger): Promise<ProcessLayout> {
  const shutdown = createShutdown(logger);
  try {
    const services = await startSharedServices(config, logger, shutdown);
    // With Redis, every process on every machine meets in it; without, in this process.
    const buckets = config.REDIS_URL ? undefined : createTokenBucketServer(bucketPolicies(config));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: services.databaseUrl,
      TEMPORAL_ADDRESS: config.temporalAddress,
      [SHARED_LIMITS_ENV]: buckets ? 'ipc' : 'redis',
      ...(services.localDatabase ? { [LOCAL_DATABASE_ENV]: services.databaseUrl } : {}),
    };
    const workers = await superviseChildren('worker', config.WORKER_PROCESSES, logger, {
      env,
      buckets,
      stopTimeoutMs: WORKER_STOP_MS,
    });
    // Closers run last-added first: API processes, then workers, then the services.
    shutdown.add('worker processes', () => stopAll(workers));
    let apiUrl = '';
    const apis = await superviseChildren('api', config.API_PROCESSES, logger, {
      env,
      buckets,
      stopTimeoutMs: API_STOP_MS,
      onReady: (url) => (apiUrl ||= url ?? ''),
    });
    shutdown.add('api processes', () => stopAll(apis));
    const summary = [
      plural(config.API_PROCESSES, 'API process'),
      plural(config.WORKER_PROCESSES, 'worker process'),
      services.databaseLabel,
      `limits shared ${buckets ? 'through this process' : 'in Redis'}`,
    ].join(', ');
    return {
      apiUrl,
      temporalAddress: config.temporalAddress,
      temporalUiUrl: services.temporalUiUrl,
      summary,
      stop: () => shutdown.stop(),
    };
  } catch (error) {
    await shutdown.stop();
    throw error;
  }
}
