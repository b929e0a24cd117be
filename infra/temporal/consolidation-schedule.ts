import { ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Duration } from '@temporalio/common';
import {
  consolidationWorkflow,
  consolidationWorkflowId,
  type ConsolidationInput,
} from '../../workflows/index.ts';
import { confirmedMemoryTags } from './search-attributes.ts';
import { upsertSchedule } from './upsert-schedule.ts';

/** One consolidation schedule per task queue, so several deployments can share a namespace. */
export const consolidationScheduleId = (taskQueue: string) => `consolidation-${taskQueue}`;

export interface ConsolidationScheduleOptions {
  /** The queue whose workers run consolidation. */
  taskQueue: string;
  /** IANA time zone the hour is in, such as `Europe/Lisbon` (default `UTC`). */
  timezone?: string;
  /** Local hour and minute of the nightly run (default 02:00). */
  hour?: number;
  minute?: number;
  /** A run missed while the server was down is still taken this late (default 4 hours). */
  catchupWindow?: Duration;
  /** Cosine similarity at or above which memories are near-duplicates (default 0.95). */
  threshold?: number;
  /** Users consolidated at once (default 2). */
  concurrency?: number;
}

/**
 * Creates (or brings up to date) the nightly consolidation schedule: every
 * day at `hour:minute` in `timezone`; a run still going when the next is due
 * is not doubled (overlap: skip); a run missed while the server was down is
 * taken on its return within `catchupWindow`. Safe to call from every worker
 * at start-up.
 */
export async function ensureConsolidationSchedule(
  client: Client,
  options: ConsolidationScheduleOptions,
): Promise<void> {
  const scheduleId = consolidationScheduleId(options.taskQueue);
  const timezone = options.timezone ?? 'UTC';
  const hour = options.hour ?? 2;
  const minute = options.minute ?? 0;
  const input: ConsolidationInput = {
    threshold: options.threshold ?? 0.95,
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
  };
  const at = `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`;
  const action = {
    type: 'startWorkflow' as const,
    workflowType: consolidationWorkflow,
    workflowId: consolidationWorkflowId(options.taskQueue),
    taskQueue: options.taskQueue,
    args: [input] as [ConsolidationInput],
    staticSummary: `Nightly consolidation at ${at} ${timezone}: merge near-duplicates, retire outdated memories, free orphans`,
    ...(await confirmedMemoryTags(client, 'consolidation')),
  };
  const spec = {
    calendars: [{ hour, minute, comment: `every day at ${at}` }],
    timezone,
  };
  const policies = {
    overlap: ScheduleOverlapPolicy.SKIP,
    catchupWindow: options.catchupWindow ?? '4 hours',
  };
  await upsertSchedule(
    client,
    {
      scheduleId,
      spec,
      action,
      policies,
      memo: { purpose: 'merges near-duplicate memories, retires outdated ones, frees orphans' },
    },
    { updatePolicies: true },
  );
}

/**
 * Starts a consolidation run now, through the schedule (so it shows in the
 * schedule's history); does nothing while a run is in progress (overlap: skip).
 */
export async function triggerConsolidation(client: Client, taskQueue: string): Promise<void> {
  await client.schedule
    .getHandle(consolidationScheduleId(taskQueue))
    .trigger(ScheduleOverlapPolicy.SKIP);
}
