import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineSignal,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { INDEX_BATCH_MAX, indexPass } from './index-pass.ts';
import { PendingMemories, type PendingMemory } from './index-user.state.ts';

export type { PendingMemory } from './index-user.state.ts';

export interface IndexUserInput {
  userId: string;
  /** Memories still to index, carried over a continue-as-new. */
  pending?: PendingMemory[];
  /** How long the run waits for more requests once it has nothing to do (default 5 s). */
  idleMs?: number;
  /** Batches after which the run continues as new (default 100: about 2,500 events). */
  batchesPerRun?: number;
}

/** What this run (since its start or last continue-as-new) did. */
export interface IndexUserResult {
  batches: number;
  indexed: number;
  /** Already indexed at their latest revision when their turn came. */
  current: number;
  deleted: number;
  /** Refused by an index (bad input): marked failed. */
  failed: number;
}

export interface IndexMemoriesRequest {
  memories: PendingMemory[];
}

/** Asks the user's run to index (or take another pass over) these memories. */
export const indexMemoriesSignal = defineSignal<[IndexMemoriesRequest]>('indexMemories');

/**
 * The workflow id of a user's indexing on `taskQueue`: one run per user at a
 * time. The queue is part of it (as in the scheduler's and the reconciler's
 * ids) so a request never lands in a run left on a queue nobody polls any
 * more (a renamed queue, a second deployment in the namespace, a test's API).
 */
export const indexUserWorkflowId = (userId: string, taskQueue: string) =>
  `index-user-${userId}-${taskQueue}`;

const BATCHES_PER_RUN = 100;
const DEFAULT_IDLE_MS = 5_000;

/**
 * Indexes one user's memories (workflow id `index-user-<user id>-<task
 * queue>`). Superseded by `indexShardWorkflow` (one run per shard of
 * users): nothing starts it any more, and it stays registered so runs in
 * flight at an upgrade finish. Saves, updates, deletes and the reconciler signal-with-start it
 * with memory ids; it indexes what is pending in batches of at most 32 (one
 * embedding call, one upsert, the graphs, each revision recorded as indexed
 * once), takes another pass over a memory that changed meanwhile, forgets
 * deleted ones, and marks content an index refuses as failed. It ends after a few idle
 * seconds; a request that arrives as it ends is still handled, because
 * Temporal refuses the completion and replays the task with the signal.
 */
export async function indexUserWorkflow(input: IndexUserInput): Promise<IndexUserResult> {
  const pending = new PendingMemories(input.pending);
  setHandler(indexMemoriesSignal, ({ memories }) => pending.add(memories));
  const result: IndexUserResult = { batches: 0, indexed: 0, current: 0, deleted: 0, failed: 0 };
  for (;;) {
    if (pending.isEmpty()) {
      await condition(() => !pending.isEmpty(), input.idleMs ?? DEFAULT_IDLE_MS);
      // A request delivered together with the idle timer's expiry is in `pending` by now.
      if (pending.isEmpty()) return result;
    }
    const batchesPerRun = input.batchesPerRun ?? BATCHES_PER_RUN;
    if (result.batches >= batchesPerRun || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      return continueAsNew<typeof indexUserWorkflow>({ ...input, pending: pending.drain() });
    }
    const { userId } = input;
    await indexPass(
      pending.take(INDEX_BATCH_MAX).map((m) => ({ ...m, userId })),
      (again) => pending.add(again.map(({ memoryId, force }) => ({ memoryId, force }))),
      result,
    );
    result.batches++;
  }
}
