import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { IndexTarget } from '../core/indexing/indexer.ts';
import { indexingActivityOptions, isBadInput } from './index-memory.workflow.ts';

export interface IndexBatchInput {
  targets: IndexTarget[];
}

export interface IndexBatchResult {
  indexed: number;
  current: number;
  /** Handed to their own runs: deleted, changed meanwhile, or refused in the batch. */
  handedOff: number;
}

// A batch embeds and extracts up to 100 memories (extraction may wait on the model), so it
// gets minutes, not the per-memory 30 s; heartbeats still notice a dead worker within 30 s.
const { indexVectors, indexGraphs, markIndexedBatch, requestIndexing } =
  proxyActivities<Activities>({
    ...indexingActivityOptions,
    startToCloseTimeout: '5 minutes',
    heartbeatTimeout: '30 seconds',
  });

/**
 * Indexes the memories of one batch save together (workflow id
 * `index-batch-<first memory id>-<count>-<time>`): one embedding call and one
 * upsert for all of them, their graphs, then each revision recorded as
 * indexed exactly once. Anything the batch cannot settle — a memory deleted
 * or edited meanwhile, or content an index refuses — goes to the memory's
 * own `index-memory-<id>` run, forced to re-embed, so a slower batch pass can
 * never leave an older vector behind.
 */
export async function indexBatchWorkflow(input: IndexBatchInput): Promise<IndexBatchResult> {
  const { targets } = input;
  try {
    const plans = await indexVectors(targets);
    const due = targets.flatMap((target, i) => {
      const plan = plans[i]!;
      return plan.kind === 'index' ? [{ target, revision: plan.revision }] : [];
    });
    const deleted = targets.filter((_, i) => plans[i]!.kind === 'deleted');
    await indexGraphs(due.map((d) => d.target));
    const { stale } = await markIndexedBatch(due);
    const leftovers = [...deleted, ...stale];
    if (leftovers.length > 0) await requestIndexing({ targets: leftovers, force: true });
    return {
      indexed: due.length - stale.length,
      current: targets.length - due.length - deleted.length,
      handedOff: leftovers.length,
    };
  } catch (error) {
    if (!isBadInput(error)) throw error;
    // One memory's content was refused: let each memory's own run find which.
    await requestIndexing({ targets, force: true });
    return { indexed: 0, current: 0, handedOff: targets.length };
  }
}
