import type { Client } from '@temporalio/client';
import type { IndexTarget } from '../../core/indexing/indexer.ts';
import type { IndexingQueue } from '../../core/ports/indexing-queue.ts';
import { indexMemoryWorkflow, memoryChangedSignal } from '../../workflows/index.ts';

/** The workflow id of a memory's indexing: one durable run per memory. */
export const indexWorkflowId = (memoryId: string) => `index-memory-${memoryId}`;

// Bounds the requests in flight when a batch of 100 memories is saved at once.
const CONCURRENCY = 16;

/**
 * Requests indexing through Temporal with signal-with-start: starts the
 * memory's run, or tells a running one to take another pass. Either way one
 * run per memory exists at a time.
 */
export function createTemporalIndexingQueue(client: Client, taskQueue: string): IndexingQueue {
  const requestOne = (target: IndexTarget) =>
    client.workflow.signalWithStart(indexMemoryWorkflow, {
      workflowId: indexWorkflowId(target.memoryId),
      taskQueue,
      args: [{ userId: target.userId, memoryId: target.memoryId }],
      signal: memoryChangedSignal,
      signalArgs: [],
      staticSummary: `index memory ${target.memoryId}`,
    });
  return {
    async request(targets) {
      for (let i = 0; i < targets.length; i += CONCURRENCY) {
        await Promise.all(targets.slice(i, i + CONCURRENCY).map(requestOne));
      }
    },
  };
}
