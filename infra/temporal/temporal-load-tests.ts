import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { LoadTestRequest, LoadTests } from '../../core/ports/load-tests.ts';
import {
  loadTestProgressQuery,
  loadTestWorkflow,
  loadTestWorkflowId,
  type LoadTestInput,
} from '../../workflows/index.ts';
import { startTagged } from './search-attributes.ts';

const QUERY_TIMEOUT_MS = 3000;

/** Maps an operator's request onto the workflow's input (unset fields keep its defaults). */
export function loadTestInput(request: LoadTestRequest): LoadTestInput {
  const chat = {
    ...(request.sessions ? { sessions: request.sessions } : {}),
    ...(request.durationS ? { durationMs: request.durationS * 1000 } : {}),
  };
  const ramp = {
    ...(request.rampMaxSessions ? { maxSessions: request.rampMaxSessions } : {}),
    ...(request.p95ThresholdMs ? { p95ThresholdMs: request.p95ThresholdMs } : {}),
  };
  return {
    target: request.target,
    ...(request.users ? { users: request.users } : {}),
    ...(request.memoriesPerUser ? { memoriesPerUser: request.memoriesPerUser } : {}),
    ...(Object.keys(chat).length > 0 ? { chat } : {}),
    ...(request.saves ? { saves: { count: request.saves } } : {}),
    ...(Object.keys(ramp).length > 0 ? { ramp } : {}),
  };
}

/** Load-test runs as `loadTestWorkflow` executions on `taskQueue`. */
export function createTemporalLoadTests(client: Client, taskQueue: string): LoadTests {
  return {
    async start(request) {
      const workflowId = `${loadTestWorkflowId()}-${randomUUID().slice(0, 6)}`;
      await startTagged(client, 'loadtest', undefined, (tags) =>
        client.workflow.start(loadTestWorkflow, {
          workflowId,
          taskQueue,
          args: [loadTestInput(request)],
          staticSummary: `load test against ${request.target}`,
          ...tags,
        }),
      );
      return { workflowId };
    },

    async get(workflowId) {
      const handle = client.workflow.getHandle(workflowId);
      let status: string;
      try {
        status = (await handle.describe()).status.name;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return null;
        throw error;
      }
      if (status === 'RUNNING') {
        const progress = await Promise.race([
          handle.query(loadTestProgressQuery),
          new Promise<null>((r) => setTimeout(() => r(null), QUERY_TIMEOUT_MS).unref()),
        ]).catch(() => null);
        return { workflowId, status, progress, result: null, failure: null };
      }
      if (status === 'COMPLETED') {
        return { workflowId, status, progress: null, result: await handle.result(), failure: null };
      }
      const failure = await handle.result().then(
        () => null,
        (error: unknown) => rootMessage(error),
      );
      return { workflowId, status, progress: null, result: null, failure };
    },
  };
}

/** The innermost cause's message: what actually went wrong, not "Activity task failed". */
function rootMessage(error: unknown): string {
  let current: unknown = error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  return current instanceof Error ? current.message : String(current);
}
