import { ScheduleNotFoundError, type Client } from '@temporalio/client';
import type { ConsolidationResult } from '../workflows/index.ts';
import { loadConfig } from '../infra/config.ts';
import {
  consolidationScheduleId,
  triggerConsolidation,
} from '../infra/temporal/consolidation-schedule.ts';
import { createTemporalClient } from '../infra/temporal/connection.ts';

// `npm run consolidate -- <command>`: runs or inspects nightly consolidation on a running stack.
const USAGE = `usage: consolidate <command>
  now [--no-wait]   run consolidation now (through its schedule) and print what it did
  status            when it runs next, and the last runs with their totals`;

async function describeSchedule(client: Client, taskQueue: string) {
  try {
    return await client.schedule.getHandle(consolidationScheduleId(taskQueue)).describe();
  } catch (error) {
    if (error instanceof ScheduleNotFoundError) {
      throw new Error(
        `there is no schedule ${consolidationScheduleId(taskQueue)}: start a worker (npm start) first`,
      );
    }
    throw error;
  }
}

async function runNow(client: Client, taskQueue: string, wait: boolean) {
  const before = await describeSchedule(client, taskQueue);
  const seen = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
  if (before.info.runningActions.length > 0) {
    const running = before.info.runningActions[0]!.workflow.workflowId;
    console.log(`a consolidation is already running (${running}); not starting another`);
    return;
  }
  await triggerConsolidation(client, taskQueue);
  let started: string | undefined;
  const until = Date.now() + 15_000;
  while (!started && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 250));
    const after = await describeSchedule(client, taskQueue);
    started = after.info.recentActions
      .map((a) => a.action.workflow.workflowId)
      .find((id) => !seen.has(id));
  }
  if (!started) throw new Error('the schedule did not start a run within 15 s');
  console.log(`started ${started} on task queue ${taskQueue}`);
  if (!wait) return;
  const result = (await client.workflow.getHandle(started).result()) as ConsolidationResult;
  console.log(JSON.stringify(result, null, 2));
}

async function status(client: Client, taskQueue: string) {
  const schedule = await describeSchedule(client, taskQueue);
  const runs = [];
  for (const action of schedule.info.recentActions.slice(-5).reverse()) {
    const { workflowId } = action.action.workflow;
    const handle = client.workflow.getHandle(workflowId);
    const { status: state } = await handle.describe();
    runs.push({
      workflowId,
      takenAt: action.takenAt.toISOString(),
      status: state.name,
      ...(state.name === 'COMPLETED'
        ? { result: (await handle.result()) as ConsolidationResult }
        : {}),
    });
  }
  console.log(
    JSON.stringify(
      {
        schedule: schedule.scheduleId,
        paused: schedule.state.paused,
        timezone: schedule.spec.timezone ?? 'UTC',
        nextRuns: schedule.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
        running: schedule.info.runningActions.map((a) => a.workflow.workflowId),
        recentRuns: runs,
      },
      null,
      2,
    ),
  );
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (command !== 'now' && command !== 'status') {
    console.error(USAGE);
    process.exit(2);
  }
  const config = loadConfig();
  const { client, connection } = await createTemporalClient(config);
  const taskQueue = config.TASK_QUEUE_CONSOLIDATION;
  try {
    if (command === 'now') await runNow(client, taskQueue, !rest.includes('--no-wait'));
    else await status(client, taskQueue);
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  console.error(`consolidate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
