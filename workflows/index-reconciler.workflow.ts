import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';

export interface IndexReconcilerInput {
  /** Work untouched for this long is requested again. */
  olderThanMs: number;
  limit: number;
}

const { requeueStaleIndexing } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumAttempts: 3 },
});

/**
 * Run by a schedule every minute: asks again for the indexing of memories
 * whose request was lost (the process died between commit and start) and of
 * deletes whose clean-up did not finish. Requests are idempotent.
 */
export async function indexReconcilerWorkflow(
  input: IndexReconcilerInput,
): Promise<{ requeued: number }> {
  return requeueStaleIndexing(input);
}
