import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  type ActivityOptions,
  defineSignal,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';

export interface IndexMemoryInput {
  userId: string;
  memoryId: string;
  /** Re-embed even if the memory is marked indexed (a batched pass may have overwritten it). */
  force?: boolean;
}

export interface IndexMemoryResult {
  outcome: 'indexed' | 'current' | 'deleted';
  revision?: number;
  passes: number;
}

/**
 * The memory changed (edited or deleted) while its indexing ran: take another
 * pass (forced: re-embed even if it is marked indexed).
 */
export const memoryChangedSignal = defineSignal<[{ force?: boolean }?]>('memoryChanged');

// A store, index or model outage only delays indexing: retry with backoff, without limit.
export const indexingActivityOptions: ActivityOptions = {
  // Short enough that a crashed worker's activity is retried elsewhere within seconds.
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: ['BadInput'],
  },
};

const { indexVector, indexGraph, markIndexed, forgetMemory, markIndexFailed } =
  proxyActivities<Activities>(indexingActivityOptions);

const MAX_PASSES = 20;

export function isBadInput(error: unknown): boolean {
  return (
    error instanceof ActivityFailure &&
    error.cause instanceof ApplicationFailure &&
    error.cause.type === 'BadInput'
  );
}

/**
 * Indexes one memory durably (workflow id `index-memory-<memory id>`): embed
 * and upsert its vector, put its entities in the graph, then record the
 * revision as indexed, exactly once. Loops while the memory keeps changing;
 * a deleted memory is removed from the vector index and the graph.
 */
export async function indexMemoryWorkflow(input: IndexMemoryInput): Promise<IndexMemoryResult> {
  let changed = false;
  let force = input.force ?? false;
  setHandler(memoryChangedSignal, (options) => {
    changed = true;
    force ||= options?.force ?? false;
  });
  const target = { userId: input.userId, memoryId: input.memoryId };

  try {
    for (let pass = 1; pass <= MAX_PASSES; pass++) {
      changed = false;
      const forced = force;
      force = false;
      const plan = await indexVector(target, forced);
      if (plan.kind === 'deleted') {
        await forgetMemory(target);
        return { outcome: 'deleted', passes: pass };
      }
      if (plan.kind === 'current') {
        if (!changed) return { outcome: 'current', revision: plan.revision, passes: pass };
        continue;
      }
      await indexGraph(target);
      const { stale } = await markIndexed(target, plan.revision);
      if (!stale && !changed) return { outcome: 'indexed', revision: plan.revision, passes: pass };
    }
  } catch (error) {
    // Content the indexes refuse will be refused on every retry: show it as failed.
    if (isBadInput(error)) await markIndexFailed(target);
    throw error;
  }
  // A memory edited faster than it can be indexed: start afresh with a short history.
  return continueAsNew<typeof indexMemoryWorkflow>({ ...target, force });
}
