import { patched, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';

export interface IndexReconcilerInput {
  /** Work untouched for this long is requested again. */
  olderThanMs: number;
  limit: number;
  /** Requests of one revision after which a memory is marked failed (default 20). */
  maxRequests?: number;
  /**
   * A retired embedding space is dropped this long after it stopped serving:
   * longer than any process takes to re-read the registry
   * (`VECTOR_SPACE_REFRESH_MS`). Default 2 hours.
   */
  dropRetiredAfterMs?: number;
}

export interface IndexReconcilerResult {
  requeued: number;
  /** Retired embedding spaces whose table or collection was removed. */
  dropped?: string[];
}

// Longer than the longest VECTOR_SPACE_REFRESH_MS the configuration accepts (1 hour).
const DEFAULT_DROP_RETIRED_AFTER_MS = 2 * 60 * 60 * 1000;

const { requeueStaleIndexing, dropRetiredSpaces } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', maximumAttempts: 3 },
});

/**
 * Run by a schedule every minute: asks again for the indexing of memories
 * whose request was lost (the process died between commit and start) and of
 * deletes whose clean-up did not finish, least recently asked first,
 * through the indexing run of each user's shard. Requests are idempotent. Then removes the
 * embedding spaces retired long enough ago that no process reads them.
 */
export async function indexReconcilerWorkflow(
  input: IndexReconcilerInput,
): Promise<IndexReconcilerResult> {
  const { dropRetiredAfterMs, ...requeue } = input;
  const { requeued } = await requeueStaleIndexing(requeue);
  // Runs recorded before retired spaces were dropped replay without this step.
  if (!patched('drop-retired-spaces')) return { requeued };
  const { dropped } = await dropRetiredSpaces({
    graceMs: dropRetiredAfterMs ?? DEFAULT_DROP_RETIRED_AFTER_MS,
  });
  return { requeued, dropped };
}
