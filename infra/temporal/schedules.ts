import {
  ScheduleOverlapPolicy,
  WorkflowExecutionAlreadyStartedError,
  type Client,
} from '@temporalio/client';
import {
  indexReconcilerWorkflow,
  reembedWorkflow,
  reembedWorkflowId,
} from '../../workflows/index.ts';
import { confirmedMemoryTags, startTagged } from './search-attributes.ts';
import { upsertSchedule } from './upsert-schedule.ts';

/** One schedule per task queue, so several deployments can share a namespace. */
export const scheduleId = (taskQueue: string) => `index-reconciler-${taskQueue}`;

/**
 * Creates (or brings up to date) the schedule that re-requests unfinished
 * indexing every `everySeconds`. Safe to call from every worker at start-up.
 */
export async function ensureIndexReconcilerSchedule(
  client: Client,
  options: {
    taskQueue: string;
    everySeconds: number;
    olderThanMs: number;
    maxRequests?: number;
    dropRetiredAfterMs?: number;
  },
): Promise<void> {
  const input = {
    olderThanMs: options.olderThanMs,
    limit: 500,
    ...(options.maxRequests !== undefined ? { maxRequests: options.maxRequests } : {}),
    ...(options.dropRetiredAfterMs !== undefined
      ? { dropRetiredAfterMs: options.dropRetiredAfterMs }
      : {}),
  };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: indexReconcilerWorkflow,
    workflowId: `index-reconciler-${options.taskQueue}`,
    taskQueue: options.taskQueue,
    args: [input] as [typeof input],
    ...(await confirmedMemoryTags(client, 'reconciler')),
  };
  const spec = { intervals: [{ every: `${options.everySeconds}s` as const }] };
  await upsertSchedule(client, {
    scheduleId: scheduleId(options.taskQueue),
    spec,
    action,
    policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
    memo: { purpose: 're-requests indexing lost between commit and workflow start' },
  });
}

/**
 * Starts the rebuild of a space unless it is already running (every process
 * that finds the space building asks; one run does the work).
 */
export async function startReembedding(
  client: Client,
  options: { spaceId: string; taskQueue: string; pageSize?: number },
): Promise<void> {
  try {
    await startTagged(client, 'reembed', undefined, (tags) =>
      client.workflow.start(reembedWorkflow, {
        workflowId: reembedWorkflowId(options.spaceId),
        taskQueue: options.taskQueue,
        args: [
          { spaceId: options.spaceId, ...(options.pageSize ? { pageSize: options.pageSize } : {}) },
        ],
        staticSummary: `re-embed every memory into ${options.spaceId}, then serve searches from it`,
        ...tags,
      }),
    );
  } catch (error) {
    if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
  }
}
