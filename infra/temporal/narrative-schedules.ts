import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { narrativeFeederWorkflow, type NarrativeFeederInput } from '../../workflows/index.ts';
import { confirmedMemoryTags } from './search-attributes.ts';
import { upsertSchedule } from './upsert-schedule.ts';

/** One feeder schedule per narratives task queue, so several deployments can share a namespace. */
export const narrativeFeederScheduleId = (taskQueue: string) => `narrative-feeder-${taskQueue}`;

export interface NarrativeFeederScheduleOptions {
  /** The narratives task queue: the feeder runs there and feeds that queue's scheduler. */
  taskQueue: string;
  /** How often to feed (default every 6 hours). */
  everySeconds?: number;
  /** Users active within this window are fed (default 48 hours). */
  activeWithinHours?: number;
  pageSize?: number;
}

/**
 * Creates (or brings up to date) the schedule that requests a narrative for
 * every recently active user at normal priority. A feed still running when
 * the next is due is not doubled (overlap: skip). Safe to call from every
 * worker at start-up.
 */
export async function ensureNarrativeFeederSchedule(
  client: Client,
  options: NarrativeFeederScheduleOptions,
): Promise<void> {
  const scheduleId = narrativeFeederScheduleId(options.taskQueue);
  const activeWithinHours = options.activeWithinHours ?? 48;
  const input: NarrativeFeederInput = {
    activeWithinMs: activeWithinHours * 3_600_000,
    pageSize: options.pageSize ?? 500,
  };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: narrativeFeederWorkflow,
    workflowId: scheduleId,
    taskQueue: options.taskQueue,
    args: [input] as [NarrativeFeederInput],
    staticSummary: `Feeds users active in the last ${activeWithinHours} h to the narrative scheduler`,
    ...(await confirmedMemoryTags(client, 'narrative-feeder')),
  };
  const spec = { intervals: [{ every: `${options.everySeconds ?? 6 * 3600}s` as const }] };
  await upsertSchedule(client, {
    scheduleId,
    spec,
    action,
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '10 minutes' },
    memo: { purpose: 'requests narratives for recently active users at normal priority' },
  });
}
