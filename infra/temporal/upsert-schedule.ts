import {
  ScheduleAlreadyRunning,
  type Client,
  type ScheduleOptions,
  type ScheduleOptionsStartWorkflowAction,
} from '@temporalio/client';
import type { Workflow } from '@temporalio/common';

export interface UpsertScheduleOptions {
  /** Also bring an existing schedule's policies up to date (merged over its own). */
  updatePolicies?: boolean;
}

/**
 * Creates the schedule, or when it already exists brings its spec and action
 * up to date and keeps the rest of what it has. Safe to call from every
 * worker at start-up.
 */
export async function upsertSchedule<W extends Workflow>(
  client: Client,
  options: ScheduleOptions<ScheduleOptionsStartWorkflowAction<W>>,
  { updatePolicies = false }: UpsertScheduleOptions = {},
): Promise<void> {
  try {
    await client.schedule.create(options);
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    const { spec, action, policies } = options;
    await client.schedule.getHandle(options.scheduleId).update((previous) => ({
      ...previous,
      spec,
      action,
      ...(updatePolicies ? { policies: { ...previous.policies, ...policies } } : {}),
    }));
  }
}
