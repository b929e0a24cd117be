import type { WorkflowClientInterceptor } from '@temporalio/client';
import type { IndexShardInput } from '../../workflows/index.ts';

/** How long a test's indexing run waits for more requests before it ends (the product's: 5 s). */
export const TEST_INDEX_IDLE_MS = 1_000;

/**
 * A client interceptor that starts indexing shard runs with a short idle
 * period (`IndexShardInput.idleMs`) unless the caller chose one. The product
 * starts them with its default; a test that waits for a run's result would
 * otherwise spend most of that wait on the idle timer. Only the start input
 * of `indexShardWorkflow` changes: the signal, and every other workflow,
 * pass through as they are.
 */
export function shortIndexRunIdle(idleMs = TEST_INDEX_IDLE_MS): WorkflowClientInterceptor {
  return {
    signalWithStart(input, next) {
      const [first, ...rest] = input.options.args;
      if (input.workflowType !== 'indexShardWorkflow' || !first) return next(input);
      const shardInput = first as IndexShardInput;
      if (shardInput.idleMs !== undefined) return next(input);
      return next({
        ...input,
        options: { ...input.options, args: [{ ...shardInput, idleMs }, ...rest] },
      });
    },
  };
}
