import type { Client, ScheduleDescription } from '@temporalio/client';
import type { ConsolidationResult } from '../../workflows/index.ts';
import { pause, type Command, type CommandContext } from '../command.ts';
import { fields } from '../output.ts';
import { unlessAborted, withTemporal } from '../temporal.ts';

// Runs or inspects nightly consolidation on a running stack, through its
// Temporal schedule, as `npm run consolidate` does.

const START_WAIT_MS = 15_000;

async function describeSchedule(client: Client, taskQueue: string): Promise<ScheduleDescription> {
  const { ScheduleNotFoundError } = await import('@temporalio/client');
  const { consolidationScheduleId } =
    await import('../../infra/temporal/consolidation-schedule.ts');
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

function totalsLines(result: ConsolidationResult): string[] {
  return fields([
    ['users', `${result.users}${result.failedUsers ? ` (${result.failedUsers} failed)` : ''}`],
    ['merged', `${result.merged} near-duplicates`],
    ['retired', `${result.expired} expired, ${result.superseded} superseded`],
    ['purged', `${result.purged ?? 0} past their expiry`],
    [
      'orphans',
      `${result.orphanVectors} vectors (~${Math.round(result.bytesFreed / 1024)} KB), ${result.orphanEntities} entities`,
    ],
    ['skipped', `${result.skipped} changes (edited meanwhile)`],
    ...result.failures.map((f): [string, string] => ['failure', `${f.userId}: ${f.error}`]),
  ]);
}

/** Triggers the schedule and waits for the run it starts to show up; resolves to its id. */
async function triggerRun(ctx: CommandContext, client: Client, taskQueue: string) {
  const { triggerConsolidation } = await import('../../infra/temporal/consolidation-schedule.ts');
  const before = await describeSchedule(client, taskQueue);
  const running = before.info.runningActions[0]?.workflow.workflowId;
  if (running) return { workflowId: running, alreadyRunning: true };
  const seen = new Set(before.info.recentActions.map((a) => a.action.workflow.workflowId));
  await triggerConsolidation(client, taskQueue);
  const until = Date.now() + START_WAIT_MS;
  while (Date.now() < until) {
    ctx.out.progress('waiting for the schedule to start a run…');
    await pause(250, ctx.signal);
    const after = await describeSchedule(client, taskQueue);
    const started = after.info.recentActions
      .map((a) => a.action.workflow.workflowId)
      .find((id) => !seen.has(id));
    if (started) return { workflowId: started, alreadyRunning: false };
  }
  throw new Error(`the schedule did not start a run within ${START_WAIT_MS / 1000} s`);
}

const now: Command = {
  name: 'consolidate now',
  synopsis: '',
  summary: 'run consolidation now (through its schedule) and show what it did',
  options: { detach: { type: 'boolean' } },
  optionHelp: ['--detach            start it and do not wait for its totals'],
  async run(ctx) {
    await withTemporal(async ({ client, config }) => {
      const taskQueue = config.TASK_QUEUE_CONSOLIDATION;
      const { workflowId, alreadyRunning } = await triggerRun(ctx, client, taskQueue);
      ctx.out.note(
        alreadyRunning
          ? `a consolidation is already running (${workflowId}); not starting another`
          : `started ${workflowId} on task queue ${taskQueue}`,
      );
      if (ctx.values.detach) {
        ctx.out.result({ workflow_id: workflowId, already_running: alreadyRunning }, () => []);
        return;
      }
      const started = Date.now();
      const ticker = setInterval(
        () => ctx.out.progress(`consolidating… ${Math.round((Date.now() - started) / 1000)} s`),
        1000,
      );
      try {
        const handle = client.workflow.getHandle(workflowId);
        const result = (await unlessAborted(handle.result(), ctx.signal)) as ConsolidationResult;
        ctx.out.result({ workflow_id: workflowId, ...result }, totalsLines);
      } finally {
        clearInterval(ticker);
      }
    });
  },
};

const status: Command = {
  name: 'consolidate status',
  synopsis: '',
  summary: 'when consolidation runs next, and its last runs with their totals',
  async run(ctx) {
    await withTemporal(async ({ client, config }) => {
      const schedule = await describeSchedule(client, config.TASK_QUEUE_CONSOLIDATION);
      const runs = [];
      for (const action of schedule.info.recentActions.slice(-5).reverse()) {
        const handle = client.workflow.getHandle(action.action.workflow.workflowId);
        const state = (await handle.describe()).status.name;
        runs.push({
          workflow_id: handle.workflowId,
          taken_at: action.takenAt.toISOString(),
          status: state,
          ...(state === 'COMPLETED'
            ? { result: (await handle.result()) as ConsolidationResult }
            : {}),
        });
      }
      const summary = {
        schedule: schedule.scheduleId,
        paused: schedule.state.paused,
        timezone: schedule.spec.timezone ?? 'UTC',
        next_runs: schedule.info.nextActionTimes.slice(0, 3).map((t) => t.toISOString()),
        running: schedule.info.runningActions.map((a) => a.workflow.workflowId),
        recent_runs: runs,
      };
      ctx.out.result(summary, (s) => [
        ...fields([
          ['schedule', `${s.schedule}${s.paused ? ' (paused)' : ''}`],
          ['next runs', `${s.next_runs.join(', ') || 'none'} (${s.timezone})`],
          ['running', s.running.join(', ') || 'nothing'],
        ]),
        '',
        ...(s.recent_runs.length === 0
          ? ['no runs yet']
          : s.recent_runs.map(
              (r) =>
                `${r.taken_at}  ${r.status.padEnd(10)} ${r.workflow_id}` +
                (r.result
                  ? `  ${r.result.users} users, ${r.result.merged} merged, ${r.result.expired + r.result.superseded} retired`
                  : ''),
            )),
      ]);
    });
  },
};

export const consolidateCommands: Command[] = [now, status];
