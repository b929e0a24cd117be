import type { ConsolidationChange, Memory } from '../ports/relational-store.ts';
import type { ConsolidateUserInput, ConsolidatorDeps } from './consolidation-types.ts';
import { emptyCounts, type ConsolidationCounts } from './counts.ts';
import { planPageMerges } from './merge-duplicates.ts';
import { planPageRetirements } from './retire-outdated.ts';
import { mergeChanges, retirementChange, type MergePlan, type Retirement } from './rules.ts';

/**
 * Plans one page's retirements and merges, applies them in one transaction
 * and asks for every memory whose filter payload changed (archived, retagged,
 * metadata a filter reads) to be indexed again, so vector searches filtered
 * on the new state, tags or metadata find it; returns what it did. The store
 * marks those memories pending in the same transaction, so a request lost to
 * a crash is made by the index reconciler instead.
 */
export async function consolidatePage(
  deps: ConsolidatorDeps,
  input: ConsolidateUserInput,
  page: Memory[],
): Promise<ConsolidationCounts> {
  const { userId, now } = input;
  const retirements = await planPageRetirements(deps.store, userId, page, now);
  const retired = new Set(retirements.map((r) => r.memory.id));
  const merges = await planPageMerges(deps, input, page, retired);

  const groups: ConsolidationChange[][] = [
    ...retirements.map((r) => [retirementChange(r, now)]),
    ...merges.map((plan) => mergeChanges(plan, now)),
  ];
  if (groups.length === 0) return emptyCounts();
  const outcome = await deps.store.applyConsolidation(userId, groups);
  if (outcome.reindex.length > 0) {
    await deps.indexingQueue?.request(outcome.reindex.map((memoryId) => ({ userId, memoryId })));
  }
  return countApplied(retirements, merges, outcome.applied);
}

/** Counts each group by whether it was applied; `applied` holds retirements first, then merges. */
function countApplied(
  retirements: readonly Retirement[],
  merges: readonly MergePlan[],
  applied: readonly boolean[],
): ConsolidationCounts {
  const counts = emptyCounts();
  retirements.forEach((r, i) => {
    if (!applied[i]) counts.skipped++;
    else if (r.reason === 'expired') counts.expired++;
    else counts.superseded++;
  });
  merges.forEach((plan, i) => {
    if (applied[retirements.length + i]) counts.merged += plan.duplicates.length;
    else counts.skipped++;
  });
  return counts;
}
