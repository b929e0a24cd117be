import { mapLimit } from '../concurrency/limits.ts';
import { AppError } from '../errors.ts';
import type { IndexingQueue } from '../ports/indexing-queue.ts';
import type { RelationalStore } from '../ports/relational-store.ts';
import { groupByUser } from './indexing-types.ts';

interface RequeueDeps {
  store: Pick<RelationalStore, 'getUser' | 'staleIndexTasks' | 'requeueFailedIndexing'>;
  indexingQueue: IndexingQueue;
}

export interface RequeueStaleInput {
  /** Work untouched (and not requested) for this long is requested again. */
  olderThanMs: number;
  limit: number;
  /** Requests of one revision after which a memory is marked failed (none: no cap). */
  maxRequests?: number;
}

// Users whose requests are in flight at once when the reconciler hands memories out.
const REQUEST_CONCURRENCY = 16;
// Failed memories put back to pending per transaction (and per batch of requests).
const REQUEUE_PAGE = 500;

/**
 * Asks again for the indexing nobody finished (see
 * `RelationalStore.staleIndexTasks`), one request per user: each user's
 * memories go to the one indexing run of the user's shard
 * (`index-shard-<n>-<queue>`), which starts it or adds them to the running
 * one, so two passes over the same stuck memories never index one twice at
 * once.
 */
export async function requeueStaleIndexing(
  { store, indexingQueue }: RequeueDeps,
  input: RequeueStaleInput,
): Promise<{ requeued: number }> {
  const tasks = await store.staleIndexTasks(
    input.olderThanMs,
    input.limit,
    input.maxRequests === undefined ? {} : { maxRequests: input.maxRequests },
  );
  const byUser = groupByUser(
    tasks,
    (task) => task.userId,
    ({ userId, memoryId }) => ({ userId, memoryId }),
  );
  await mapLimit([...byUser.values()], REQUEST_CONCURRENCY, (targets) =>
    indexingQueue.request(targets),
  );
  return { requeued: tasks.length };
}

/**
 * Puts the `failed` memories of one user (or of everyone) back to pending
 * and requests their indexing; returns how many. A request that cannot be
 * made (the workflow engine is down) is left to the reconciler: the
 * memories are pending already. Unknown user: `not_found`.
 */
export async function requeueFailedIndexing(
  { store, indexingQueue }: RequeueDeps,
  userId: string | undefined,
  onRequestError?: (error: unknown) => void,
): Promise<{ requeued: number }> {
  if (userId !== undefined && !(await store.getUser(userId))) {
    throw new AppError('not_found', `user ${userId} not found`);
  }
  let requeued = 0;
  let afterId: string | undefined;
  for (;;) {
    const page = await store.requeueFailedIndexing({
      limit: REQUEUE_PAGE,
      ...(userId === undefined ? {} : { userId }),
      ...(afterId === undefined ? {} : { afterId }),
    });
    requeued += page.length;
    if (page.length > 0) {
      await indexingQueue
        .request(page.map(({ userId: owner, memoryId }) => ({ userId: owner, memoryId })))
        .catch((error: unknown) => onRequestError?.(error));
    }
    if (page.length < REQUEUE_PAGE) return { requeued };
    afterId = page[page.length - 1]!.memoryId;
  }
}
