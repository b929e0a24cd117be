import { WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import type { ImportRuns } from '../../core/ports/import-runs.ts';
import { importWorkflow, importWorkflowId } from '../../workflows/index.ts';
import { startTagged } from './search-attributes.ts';

/** How long starting a run may take before the import goes on without it (it retries once). */
const START_TIMEOUT_MS = 5_000;

/**
 * Imports' indexing runs as `importWorkflow` executions on `taskQueue` (the
 * indexing queue), one per import (`import-<import id>`), tagged
 * `MemoryKind = "import"` and `MemoryUserId` so the Temporal UI lists a
 * user's imports. Starting one again finds the one already started.
 */
export function createTemporalImportRuns(client: Client, taskQueue: string): ImportRuns {
  return {
    async start({ importId, userId }) {
      const workflowId = importWorkflowId(importId);
      try {
        await startTagged(client, 'import', userId, (tags) =>
          client.connection.withDeadline(Date.now() + START_TIMEOUT_MS, () =>
            client.workflow.start(importWorkflow, {
              workflowId,
              taskQueue,
              args: [{ importId, userId }],
              // One run per import: a running one is found again, a finished one is not redone.
              workflowIdConflictPolicy: 'USE_EXISTING',
              workflowIdReusePolicy: 'REJECT_DUPLICATE',
              staticSummary: `index the memories of import ${importId} (user ${userId})`,
              ...tags,
            }),
          ),
        );
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
      return { workflowId };
    },
  };
}
