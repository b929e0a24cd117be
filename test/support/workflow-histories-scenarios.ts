import type { WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils.js';
import { narrativeFeederScheduleId } from '../../infra/temporal/narrative-schedules.ts';
import { scheduleId as indexReconcilerScheduleId } from '../../infra/temporal/schedules.ts';
import { createTemporalNarrativeQueue } from '../../infra/temporal/temporal-narrative-queue.ts';
import {
  consolidationWorkflow,
  consolidationWorkflowId,
  indexReconcilerWorkflow,
  loadTestProgressQuery,
  loadTestProgressSignal,
  loadTestWorkflow,
  loadTestWorkflowId,
  narrativeFeederWorkflow,
  reembedWorkflow,
  reembedWorkflowId,
  type NarrativeSchedulerInput,
  type NarrativeSchedulerStatus,
} from '../../workflows/index.ts';
import { importRun } from './import-history.ts';
import { eventually } from './test-api.ts';
import type { Recorder } from './workflow-histories.ts';

// The paths each committed history walks. Every scenario drives the workflow
// the way production does (the narrative queue's signal-with-start and
// update-with-start; the schedules' inputs) and returns its runs by file name.

/** Histories by file name (`<workflow>--<scenario>`). */
export type Recorded = Record<string, History>;

const DEADLINE_MS = 60_000;
const HOUR_MS = 3_600_000;

function schedulerQueue(r: Recorder, lane: string, scheduler: NarrativeSchedulerInput) {
  const queue = createTemporalNarrativeQueue(r.client, r.taskQueue(lane), {
    scheduler,
    coalesceMs: 0,
    repeatWindowMs: 0,
  });
  // Every status read is a query, so the recorded runs answered queries throughout.
  const status = async (): Promise<NarrativeSchedulerStatus> => {
    const s = await queue.status();
    if (!s) throw new Error(`the scheduler of ${lane} is not running`);
    return s;
  };
  const handle = r.client.workflow.getHandle(queue.workflowId);
  return { queue, status, handle };
}

const served = (s: NarrativeSchedulerStatus) => s.processed + s.failed;

/** Waits for a cancelled run to close; a run that cannot close is ended so the recording can go on. */
async function cancelAndWait(handle: WorkflowHandle): Promise<void> {
  await handle.cancel();
  const closed = handle.result().then(
    () => true,
    () => true,
  );
  const timedOut = new Promise<false>((resolve) => setTimeout(() => resolve(false), 15_000));
  if (!(await Promise.race([closed, timedOut]))) {
    await handle.terminate('did not close after cancellation');
  }
}

/**
 * The scheduler's everyday paths in one run: signals at three priorities, a
 * memory pause and its lifting, a skipped, a retried and a failed
 * generation, and an operator's pause and resume (updates).
 */
export async function schedulerServes(r: Recorder): Promise<Recorded> {
  const { queue, status, handle } = schedulerQueue(r, 'scheduler-serve', {
    memoryPollMs: 200,
    generation: { maxAttempts: 2, retryInitialMs: 100 },
  });
  r.control.memory.usedMb = 800;
  await queue.enqueue([
    { userId: 'gen-1', priority: 'high' },
    { userId: 'current-2', priority: 'normal' },
    { userId: 'unknown-3', priority: 'low' },
    { userId: 'flaky-4', priority: 'normal' },
  ]);
  const { runId } = await handle.describe();
  await eventually('paused for memory', async () => (await status()).memoryPaused, DEADLINE_MS);
  r.control.memory.usedMb = 100;
  await eventually('four served', async () => served(await status()) === 4, DEADLINE_MS);
  await queue.pause('recording a history');
  await queue.enqueue([{ userId: 'gen-5', priority: 'normal' }]);
  await queue.resume();
  await eventually('five served', async () => served(await status()) === 5, DEADLINE_MS);
  await handle.terminate('recording over');
  await queue.close();
  return named('narrative-scheduler--serve-pause-resume', await r.runs(queue.workflowId, runId));
}

/** The scheduler cancelled (as an operator would) while a generation runs. */
export async function schedulerCancelled(r: Recorder): Promise<Recorded> {
  const { queue, status, handle } = schedulerQueue(r, 'scheduler-cancel', { memoryPollMs: 200 });
  await queue.enqueue([
    { userId: 'gen-7', priority: 'normal' },
    { userId: 'held-8', priority: 'high' },
  ]);
  const { runId } = await handle.describe();
  await eventually(
    'held-8 in flight, gen-7 served',
    async () => {
      const s = await status();
      return s.inFlight.includes('held-8') && s.processed === 1;
    },
    DEADLINE_MS,
  );
  await cancelAndWait(handle);
  await queue.close();
  return named('narrative-scheduler--cancel-in-flight', await r.runs(queue.workflowId, runId));
}

/**
 * The scheduler past its history limit: after serving two users it is
 * paused, and one signal per user grows the history until it continues as
 * new with the queue, counters and pause carried; resumed, the next runs
 * serve the queue.
 */
export async function schedulerContinuesAsNew(r: Recorder): Promise<Recorded> {
  const { queue, status, handle } = schedulerQueue(r, 'scheduler-continue', {
    memoryPollMs: 500,
    continueAsNewAfterEvents: 40,
  });
  await queue.enqueue([
    { userId: 'gen-a', priority: 'normal' },
    { userId: 'gen-b', priority: 'normal' },
  ]);
  const { runId: first } = await handle.describe();
  await eventually('two served', async () => served(await status()) === 2, DEADLINE_MS);
  await queue.pause('holding for continue-as-new');
  const priorities = ['low', 'normal', 'high'] as const;
  let sent = 0;
  while ((await handle.describe()).historyLength <= 40) {
    await queue.enqueue([{ userId: `gen-c${sent}`, priority: priorities[sent % 3]! }]);
    sent++;
  }
  // It drains first: the memory watcher's sleep ends, then the run continues as new.
  await eventually(
    'continued as new',
    async () => (await handle.describe()).runId !== first,
    DEADLINE_MS,
  );
  await eventually('all carried', async () => (await status()).queueLength === sent, DEADLINE_MS);
  await queue.resume();
  await eventually('all served', async () => served(await status()) === sent + 2, DEADLINE_MS);
  await handle.terminate('recording over');
  await queue.close();
  return named('narrative-scheduler--continue-as-new', await r.runs(queue.workflowId, first));
}

/** One file per run: `<name>-run-<n>`, or just `<name>` for a single run. */
function named(name: string, runs: History[]): Recorded {
  if (runs.length === 1) return { [name]: runs[0]! };
  return Object.fromEntries(runs.map((history, i) => [`${name}-run-${i + 1}`, history]));
}

async function recordRun(
  r: Recorder,
  name: string,
  handle: WorkflowHandleWithFirstExecutionRunId,
): Promise<Recorded> {
  await handle.result();
  return named(name, await r.runs(handle.workflowId, handle.firstExecutionRunId));
}

/** The index reconciler as its schedule starts it. */
export async function indexReconcilerRun(r: Recorder): Promise<Recorded> {
  const taskQueue = r.taskQueue('scheduled');
  const handle = await r.client.workflow.start(indexReconcilerWorkflow, {
    taskQueue,
    workflowId: `${indexReconcilerScheduleId(taskQueue)}-recorded`,
    args: [{ olderThanMs: 5 * 60_000, limit: 500 }],
  });
  return recordRun(r, 'index-reconciler--requeue', handle);
}

/**
 * The scheduled and long-running batch workflows: the feeder over three
 * pages, consolidation continuing as new after each page with one user
 * failing, and a re-embedding over three pages.
 */
export async function scheduledRuns(r: Recorder): Promise<Recorded> {
  const taskQueue = r.taskQueue('scheduled');
  const feeder = await r.client.workflow.start(narrativeFeederWorkflow, {
    taskQueue,
    workflowId: `${narrativeFeederScheduleId(taskQueue)}-recorded`,
    args: [{ activeWithinMs: 48 * HOUR_MS, pageSize: 2 }],
  });
  const consolidation = await r.client.workflow.start(consolidationWorkflow, {
    taskQueue,
    workflowId: `${consolidationWorkflowId(taskQueue)}-recorded`,
    args: [{ threshold: 0.95, concurrency: 2, usersPerPage: 2, usersPerRun: 2 }],
  });
  const reembed = await r.client.workflow.start(reembedWorkflow, {
    taskQueue,
    workflowId: reembedWorkflowId(`recorded-${taskQueue}`),
    args: [{ spaceId: 'minilm-l6-384', pageSize: 2 }],
  });
  return {
    ...(await recordRun(r, 'narrative-feeder--three-pages', feeder)),
    ...(await recordRun(r, 'consolidation--continue-as-new-one-failure', consolidation)),
    ...(await recordRun(r, 'reembed--three-pages', reembed)),
    ...(await indexReconcilerRun(r)),
  };
}

/** A load test answering progress queries, with a scenario's live counts signalled in. */
export async function loadTestRun(r: Recorder): Promise<Recorded> {
  const handle = await r.client.workflow.start(loadTestWorkflow, {
    taskQueue: r.taskQueue('load-test'),
    workflowId: `${loadTestWorkflowId()}-recorded`,
    args: [
      {
        target: 'http://127.0.0.1:8080',
        users: 2,
        chat: { sessions: 2, durationMs: 1000 },
        saves: { count: 4 },
        ramp: { startSessions: 2, step: 2, maxSessions: 4 },
      },
    ],
  });
  const progress = () => handle.query(loadTestProgressQuery);
  await eventually('preparing', async () => (await progress()).phase === 'prepare', DEADLINE_MS);
  await handle.signal(loadTestProgressSignal, {
    scenario: 'prepare',
    sessions: 2,
    requests: 40,
    errors: 0,
    p95Ms: 18,
    rssMb: 210,
    elapsedMs: 1500,
    indexed: 30,
  });
  await eventually('live counts', async () => (await progress()).live !== null, DEADLINE_MS);
  r.control.open('prepare');
  return recordRun(r, 'load-test--progress', handle);
}

/** Every scenario by name; each runs on a task queue (lane) of its own, as a scheduler's id is per queue. */
export const SCENARIOS: Record<string, (r: Recorder) => Promise<Recorded>> = {
  'scheduler-serve': schedulerServes,
  'scheduler-cancel': schedulerCancelled,
  'scheduler-continue': schedulerContinuesAsNew,
  scheduled: scheduledRuns,
  'load-test': loadTestRun,
  import: importRun,
};
