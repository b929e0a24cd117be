import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApplicationFailure } from '@temporalio/activity';
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, DefaultLogger, NativeConnection, Worker } from '@temporalio/worker';
import type { Activities } from '../activities/index.ts';
import type { IndexPlan, IndexTarget } from '../core/indexing/indexer.ts';
import { createLogger } from '../infra/logger.ts';
import { projectRoot } from '../infra/project-root.ts';
import { ensureTemporalCli } from '../infra/temporal/temporal-cli.ts';
import { installTemporalRuntime } from '../infra/temporal/runtime-logger.ts';
import { freePort, startTemporalDevServer } from '../infra/temporal/temporal-dev-server.ts';
import {
  HISTORIES_DIR,
  PRODUCT_WORKFLOWS,
  startRecorder,
  VERSIONING_DIR,
  writeHistory,
} from '../test/support/workflow-histories.ts';
import {
  indexReconcilerRun,
  SCENARIOS,
  type Recorded,
} from '../test/support/workflow-histories-scenarios.ts';
import {
  indexMemoriesSignal,
  indexShardWorkflow,
  indexShardWorkflowId,
  indexTargetsSignal,
  indexUserWorkflow,
  indexUserWorkflowId,
} from '../workflows/index.ts';

// `node scripts/bootstrap.mjs record-histories [scenario...]`: runs the named
// scenarios (default: all, see SCENARIOS, plus `versioning` and `index-user`) on a real Temporal
// server (TEST_TEMPORAL_ADDRESS, else a dev server started here) with the workflow
// code as it is now, and writes the histories that
// test/integration/workflow-replay.test.ts replays to test/fixtures/histories/.
// Files of the same name are replaced; others (histories of older code) are kept.

const PATCHED_RECONCILER = fileURLToPath(
  new URL(
    '../test/fixtures/histories/versioning/reconciler-pause-patched.workflow.ts',
    import.meta.url,
  ),
);

async function recordScenarios(address: string, names: string[]): Promise<void> {
  const product = await startRecorder(address, PRODUCT_WORKFLOWS, names);
  let recorded: Recorded = {};
  try {
    // One after another: the scheduler scenarios share the stub memory reading.
    for (const name of names) recorded = { ...recorded, ...(await SCENARIOS[name]!(product)) };
  } finally {
    await product.stop();
  }
  for (const [name, history] of Object.entries(recorded)) {
    await writeHistory(HISTORIES_DIR, name, history);
    console.log(`recorded ${name} (${history.events?.length ?? 0} events)`);
  }
}

/** A run on the code after the versioning example's change, with its patch marker. */
async function recordVersioning(address: string): Promise<void> {
  const patched = await startRecorder(address, PATCHED_RECONCILER, ['scheduled']);
  try {
    const [history] = Object.values(await indexReconcilerRun(patched));
    await writeHistory(VERSIONING_DIR, 'index-reconciler--after-pause-patch', history!);
    console.log('recorded versioning/index-reconciler--after-pause-patch');
  } finally {
    await patched.stop();
  }
}

type IndexingStubs = Pick<
  Activities,
  | 'indexVectors'
  | 'indexGraphs'
  | 'markIndexedBatch'
  | 'forgetMemory'
  | 'indexVector'
  | 'indexGraph'
  | 'markIndexed'
  | 'markIndexFailed'
  | 'indexBatch'
>;

/**
 * Indexing activities that answer from the memory id: `deleted-` is gone,
 * `current-` already indexed, `stale-` changed while indexed (once), `bad-`
 * refused by the index (a batch holding it fails with BadInput; the batched
 * activity counts it failed).
 */
function indexingStubs(): IndexingStubs {
  const staleSeen = new Set<string>();
  const plan = (memoryId: string): IndexPlan =>
    memoryId.startsWith('deleted-')
      ? { kind: 'deleted' }
      : { kind: memoryId.startsWith('current-') ? 'current' : 'index', revision: 1 };
  const refuse = () => ApplicationFailure.nonRetryable('the index refused it', 'BadInput');
  return {
    async indexVectors(targets) {
      if (targets.some((t) => t.memoryId.startsWith('bad-'))) throw refuse();
      return targets.map((t) => plan(t.memoryId));
    },
    indexGraphs: async () => ({ entities: 0 }),
    async markIndexedBatch(items) {
      const stale = items
        .map((item) => item.target)
        .filter((t) => t.memoryId.startsWith('stale-') && !staleSeen.has(t.memoryId));
      for (const t of stale) staleSeen.add(t.memoryId);
      return { stale };
    },
    forgetMemory: async () => {},
    async indexVector(target) {
      if (target.memoryId.startsWith('bad-')) throw refuse();
      return plan(target.memoryId);
    },
    indexGraph: async () => ({ entities: 0 }),
    markIndexed: async () => ({ stale: false }),
    markIndexFailed: async () => {},
    async indexBatch(batch) {
      const outcome = { indexed: 0, current: 0, deleted: 0, failed: 0, stale: [] as IndexTarget[] };
      for (const { userId, memoryId } of batch) {
        if (memoryId.startsWith('bad-')) outcome.failed++;
        else if (memoryId.startsWith('stale-') && !staleSeen.has(memoryId)) {
          staleSeen.add(memoryId);
          outcome.stale.push({ userId, memoryId });
        } else {
          const { kind } = plan(memoryId);
          if (kind === 'index') outcome.indexed++;
          else outcome[kind]++;
        }
      }
      return outcome;
    },
  };
}

/** A worker with the indexing stubs on a fresh task queue, and a client; `run` records with them. */
async function withIndexingWorker(
  address: string,
  prefix: string,
  run: (client: Client, taskQueue: string) => Promise<void>,
): Promise<void> {
  const taskQueue = `${prefix}-${randomUUID().slice(0, 8)}`;
  const nativeConnection = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle: await bundleWorkflowCode({
      workflowsPath: PRODUCT_WORKFLOWS,
      logger: new DefaultLogger('WARN'),
    }),
    activities: indexingStubs(),
  });
  const running = worker.run();
  try {
    await run(new Client({ connection }), taskQueue);
  } finally {
    worker.shutdown();
    await running;
    await nativeConnection.close();
    await connection.close();
  }
}

/** Writes every run of a continue-as-new chain as `<name>-run-<n>`. */
async function writeRuns(client: Client, workflowId: string, firstRunId: string, name: string) {
  await client.workflow.getHandle(workflowId).result();
  const runs = await followRuns(client, workflowId, firstRunId);
  for (const [i, history] of runs.entries()) {
    const file = `${name}-run-${i + 1}`;
    await writeHistory(HISTORIES_DIR, file, history);
    console.log(`recorded ${file} (${history.events?.length ?? 0} events)`);
  }
}

/** 69 memory ids: a deleted, a current and a stale one, then plain ones, the last refused. */
function indexingIds(): string[] {
  const ids = ['deleted-1', 'current-1', 'stale-1'];
  for (let i = ids.length; i < 68; i++) ids.push(`memory-${i}`);
  ids.push('bad-1');
  return ids;
}

/**
 * A user's indexing run (before shards; kept so runs in flight at an
 * upgrade still replay): two requests (69 memories, then two forced ones
 * while it works), batches of 32 with a deleted, a current and a stale
 * memory, continue-as-new after two batches carrying what is pending, and a
 * batch an index refuses taken one memory at a time.
 */
async function recordIndexUser(address: string): Promise<void> {
  await withIndexingWorker(address, 'record-index-user', async (client, taskQueue) => {
    // Two full batches, then continue-as-new; the refused one is in the next run's batch.
    const request = (memoryIds: string[], force = false) =>
      client.workflow.signalWithStart(indexUserWorkflow, {
        workflowId: indexUserWorkflowId('recorded', taskQueue),
        taskQueue,
        args: [{ userId: 'recorded', idleMs: 500, batchesPerRun: 2 }],
        signal: indexMemoriesSignal,
        signalArgs: [{ memories: memoryIds.map((memoryId) => ({ memoryId, force })) }],
      });
    const handle = await request(indexingIds());
    await request(['memory-1', 'late-1'], true);
    await writeRuns(
      client,
      handle.workflowId,
      handle.signaledRunId,
      'index-user--batches-continue-as-new',
    );
  });
}

/**
 * A shard's indexing run, as {@link recordIndexUser} with the memories split
 * between two users (batches taken round-robin across them), then a forced
 * request for one user and a first one for a third.
 */
async function recordIndexShard(address: string): Promise<void> {
  await withIndexingWorker(address, 'record-index-shard', async (client, taskQueue) => {
    const request = (memories: { userId: string; memoryId: string; force?: boolean }[]) =>
      client.workflow.signalWithStart(indexShardWorkflow, {
        workflowId: indexShardWorkflowId(0, taskQueue),
        taskQueue,
        args: [{ shard: 0, idleMs: 500, batchesPerRun: 2 }],
        signal: indexTargetsSignal,
        signalArgs: [{ memories }],
      });
    const handle = await request(
      indexingIds().map((memoryId, i) => ({ userId: i % 3 === 0 ? 'alice' : 'bob', memoryId })),
    );
    await request([
      { userId: 'bob', memoryId: 'memory-4', force: true },
      { userId: 'carol', memoryId: 'late-1' },
    ]);
    await writeRuns(
      client,
      handle.workflowId,
      handle.signaledRunId,
      'index-shard--batches-continue-as-new',
    );
  });
}

async function followRuns(client: Client, workflowId: string, firstRunId: string) {
  const histories = [];
  for (let next: string | null | undefined = firstRunId; next;) {
    const history = await client.workflow.getHandle(workflowId, next).fetchHistory();
    histories.push(history);
    next =
      history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
  }
  return histories;
}

async function record(address: string, chosen: string[]): Promise<void> {
  const own = ['versioning', 'index-user', 'index-shard'];
  const scenarios = chosen.filter((name) => !own.includes(name));
  if (scenarios.length > 0) await recordScenarios(address, scenarios);
  if (chosen.includes('versioning')) await recordVersioning(address);
  if (chosen.includes('index-user')) await recordIndexUser(address);
  if (chosen.includes('index-shard')) await recordIndexShard(address);
  console.log(`histories in ${path.relative(projectRoot, HISTORIES_DIR)}`);
}

async function main() {
  const known = [...Object.keys(SCENARIOS), 'versioning', 'index-user', 'index-shard'];
  const args = process.argv.slice(2);
  const chosen = args.length > 0 ? args : known;
  const unknown = chosen.filter((name) => !known.includes(name));
  if (unknown.length > 0)
    throw new Error(`unknown scenario ${unknown.join(', ')}: one of ${known.join(', ')}`);
  installTemporalRuntime(createLogger('error'));
  const given = process.env.TEST_TEMPORAL_ADDRESS;
  if (given) return record(given, chosen);
  const server = await startTemporalDevServer({
    cliPath: await ensureTemporalCli({ projectRoot, log: console.log }),
    port: await freePort(),
    uiPort: await freePort(),
    log: console.log,
  });
  try {
    await record(server.address, chosen);
  } finally {
    await server.stop();
  }
}

main().catch((error: unknown) => {
  console.error(`recording failed: ${error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
});
