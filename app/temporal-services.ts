import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import { createCoalescingIndexingQueue } from '../core/indexing/coalescing-queue.ts';
import type { IndexingQueue } from '../core/ports/indexing-queue.ts';
import { errorMessage } from '../infra/process/process-tools.ts';
import type { Config } from '../infra/config.ts';
import type { Metrics } from '../infra/metrics/metrics.ts';
import { superviseService, type Supervisor } from '../infra/process/supervisor.ts';
import { projectRoot } from '../infra/project-root.ts';
import { createTemporalClient } from '../infra/temporal/connection.ts';
import { ensureMemorySearchAttributes } from '../infra/temporal/search-attributes.ts';
import { ensureTemporalCli } from '../infra/temporal/temporal-cli.ts';
import { startTemporalDevServer } from '../infra/temporal/temporal-dev-server.ts';
import { createTemporalIndexingQueue } from '../infra/temporal/temporal-indexing-queue.ts';
import {
  createTemporalNarrativeQueue,
  type TemporalNarrativeQueue,
} from '../infra/temporal/temporal-narrative-queue.ts';
import type { Shutdown } from './shutdown.ts';

/** The Temporal client and the two queues the engine hands background work to. */
export interface TemporalServices {
  client: Client;
  /** Requests sent as they are made (activities: the reconciler, a batch handing work back). */
  indexingQueue: IndexingQueue;
  /** Saves' requests, gathered for a few ms and sent per user off the save path. */
  saveIndexingQueue: IndexingQueue;
  narrativeQueue: TemporalNarrativeQueue;
}

/**
 * The least time between two sends of saves' indexing requests to Temporal. Each signal
 * is a workflow task of a shard's run (four history events): at 100 ms, 15 saves/s over
 * 200 users were about 15 signals a second, a third of the dev server's work under the
 * bench's mix. At 1 s every shard gets at most one signal a second, which is also how
 * often a shard's run starts a batch that is not full; a save after a quiet spell is
 * still asked for at once.
 */
const SAVE_REQUEST_WINDOW_MS = 1_000;
/** The embedded dev server's nice value (see `TemporalDevServerOptions.niceness`). */
const DEV_SERVER_NICENESS = 5;
/** Past this many memories gathered, a save waits for the flush (a flood cannot grow the buffer). */
const SAVE_REQUEST_MAX_PENDING = 5_000;

/** The dev server this process started and keeps up. */
export interface EmbeddedTemporal {
  uiUrl: string;
  supervisor: Supervisor;
}

/**
 * Installs the Temporal CLI (once) and starts its dev server, whose history
 * lives under the data directory. The server is supervised: when it dies it
 * is started again on the same ports and database file (so its history
 * survives), with a backoff while it keeps dying; shutdown stops it for good.
 */
export async function startEmbeddedTemporal(
  config: Config,
  logger: Logger,
  shutdown: Shutdown,
): Promise<EmbeddedTemporal> {
  const service = 'temporal-dev-server';
  const log = (msg: string) => logger.info({ component: service }, msg);
  const cliPath = await ensureTemporalCli({ projectRoot, log });
  let uiUrl = '';
  const supervisor = await superviseService({
    name: service,
    start: async () => {
      const server = await startTemporalDevServer({
        cliPath,
        port: config.TEMPORAL_PORT,
        uiPort: config.TEMPORAL_UI_PORT,
        dbFile: path.join(config.dataDir, 'temporal', 'temporal.db'),
        namespace: config.TEMPORAL_NAMESPACE,
        logFile: path.join(config.dataDir, 'temporal', 'dev-server.log'),
        log,
        // Background work: on a busy 2-core box the API's requests get the CPU first.
        niceness: DEV_SERVER_NICENESS,
      });
      uiUrl = server.uiUrl;
      return server;
    },
    log: (level, msg, fields) => logger[level]({ component: service, ...fields }, msg),
  });
  shutdown.add('temporal dev server', () => supervisor.stop());
  return { uiUrl, supervisor };
}

/** Connects to Temporal and opens the indexing and narrative queues over it. */
export async function connectTemporal(
  config: Config,
  logger: Logger,
  shutdown: Shutdown,
  metrics: Metrics | undefined,
): Promise<TemporalServices> {
  const temporal = await createTemporalClient(config);
  // Before any workflow starts, so the first ones are tagged too (never rejects; warns once).
  await ensureMemorySearchAttributes(temporal.client, logger);
  shutdown.add('temporal client', () => temporal.connection.close());
  const indexingQueue = createTemporalIndexingQueue(temporal.client, config.TASK_QUEUE_INDEXING, {
    requestTimeoutMs: config.INDEX_REQUEST_TIMEOUT_MS,
  });
  const narrativeQueue = createTemporalNarrativeQueue(
    temporal.client,
    config.TASK_QUEUE_NARRATIVES,
    {
      scheduler: {
        maxInFlight: config.NARRATIVE_MAX_IN_FLIGHT,
        memoryPollMs: config.NARRATIVE_MEMORY_POLL_S * 1000,
        pauseAbove: config.NARRATIVE_PAUSE_AT_PCT / 100,
        resumeBelow: config.NARRATIVE_RESUME_AT_PCT / 100,
        maxQueued: config.NARRATIVE_MAX_QUEUED,
      },
      coalesceMs: config.NARRATIVE_COALESCE_MS,
      onError: (error, requests) =>
        logger.warn(
          { err: error, users: requests.length },
          'narrative request failed; the feeder will ask again',
        ),
    },
  );
  // A save has committed its row before it asks, so it need not wait for Temporal's answer:
  // a failed request leaves the memory pending for the reconciler, as a direct one would.
  const saveIndexingQueue = createCoalescingIndexingQueue(indexingQueue, {
    windowMs: SAVE_REQUEST_WINDOW_MS,
    maxPending: SAVE_REQUEST_MAX_PENDING,
    onError: (error, targets) =>
      logger.warn(
        { error: errorMessage(error), memories: targets.length },
        'indexing request failed; the reconciler will retry it',
      ),
  });
  // Closed before the Temporal client (closers run in reverse), so coalesced requests go out.
  shutdown.add('save indexing requests', () => saveIndexingQueue.close());
  shutdown.add('narrative queue', () => narrativeQueue.close());
  metrics?.addSources({ narrativeQueueDepth: cachedQueueDepth(narrativeQueue) });
  return { client: temporal.client, indexingQueue, saveIndexingQueue, narrativeQueue };
}

// Scrapes and every open dashboard ask for the depth: one workflow query per 5 s serves them.
function cachedQueueDepth(narrativeQueue: TemporalNarrativeQueue) {
  let depth: { at: number; value: Promise<number | null> } | undefined;
  return () => {
    if (!depth || Date.now() - depth.at > 5_000) {
      depth = {
        at: Date.now(),
        value: narrativeQueue.status().then(
          (status) => status?.queueLength ?? null,
          () => null,
        ),
      };
    }
    return depth.value;
  };
}
