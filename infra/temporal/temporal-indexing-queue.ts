import type { Client } from '@temporalio/client';
import type { IndexTarget } from '../../core/indexing/indexer.ts';
import type { IndexingQueue } from '../../core/ports/indexing-queue.ts';
import {
  indexBatchWorkflow,
  indexMemoryWorkflow,
  memoryChangedSignal,
} from '../../workflows/index.ts';

/** The workflow id of a memory's indexing: one durable run per memory. */
export const indexWorkflowId = (memoryId: string) => `index-memory-${memoryId}`;

// Bounds the requests in flight when many memories go to their own runs at once.
const CONCURRENCY = 16;
/** Memories one batched run indexes together (a batch save holds at most 100). */
const BATCH_MAX = 100;
/** How long one request to Temporal may take before it counts as failed (see the options). */
export const DEFAULT_INDEX_REQUEST_TIMEOUT_MS = 2_000;

export interface TemporalIndexingQueueOptions {
  /**
   * Deadline of each signal-with-start or start sent to Temporal (default
   * 2 s). A save waits at most this long for Temporal: past it the request
   * fails, the memory stays `pending`, and the index reconciler asks again.
   */
  requestTimeoutMs?: number;
}

/**
 * Requests indexing through Temporal. A single memory (or a forced request)
 * uses signal-with-start on the memory's own run: it starts it, or tells a
 * running one to take another pass, so one run per memory exists at a time.
 * Several memories at once (a batch save, the reconciler) start one batched
 * run per 100, which embeds and upserts them together and hands anything it
 * cannot settle back to the memories' own runs.
 */
export function createTemporalIndexingQueue(
  client: Client,
  taskQueue: string,
  options: TemporalIndexingQueueOptions = {},
): IndexingQueue {
  const timeoutMs = options.requestTimeoutMs ?? DEFAULT_INDEX_REQUEST_TIMEOUT_MS;
  // Without a deadline the SDK retries an unreachable server for many seconds, holding the save.
  const withinDeadline = <T>(call: () => Promise<T>) =>
    client.connection.withDeadline(Date.now() + timeoutMs, call);
  const requestOne = (target: IndexTarget, force: boolean) =>
    withinDeadline(() =>
      client.workflow.signalWithStart(indexMemoryWorkflow, {
        workflowId: indexWorkflowId(target.memoryId),
        taskQueue,
        args: [{ userId: target.userId, memoryId: target.memoryId, ...(force ? { force } : {}) }],
        signal: memoryChangedSignal,
        signalArgs: [force ? { force } : {}],
        staticSummary: `index memory ${target.memoryId}`,
      }),
    );
  const requestBatch = (targets: IndexTarget[]) =>
    withinDeadline(() =>
      client.workflow.start(indexBatchWorkflow, {
        // Unique per request: the same memories asked for twice are indexed idempotently.
        workflowId: `index-batch-${targets[0]!.memoryId}-${targets.length}-${Date.now().toString(36)}`,
        taskQueue,
        args: [{ targets }],
        staticSummary: `index ${targets.length} memories together`,
      }),
    );
  return {
    async request(targets, options = {}) {
      const force = options.force ?? false;
      if (targets.length > 1 && !force) {
        const chunks: IndexTarget[][] = [];
        for (let i = 0; i < targets.length; i += BATCH_MAX) {
          chunks.push(targets.slice(i, i + BATCH_MAX));
        }
        await Promise.all(chunks.map(requestBatch));
        return;
      }
      for (let i = 0; i < targets.length; i += CONCURRENCY) {
        await Promise.all(targets.slice(i, i + CONCURRENCY).map((t) => requestOne(t, force)));
      }
    },
  };
}
