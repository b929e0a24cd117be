import { mapLimit } from '../concurrency/limits.ts';
import type { EntityExtractor } from '../extraction/entity-extractor.ts';
import type { GraphStore } from '../ports/graph-store.ts';
import type { RelationalStore } from '../ports/relational-store.ts';
import type { VectorSpaces } from '../ports/vector-space.ts';

export interface IndexTarget {
  userId: string;
  memoryId: string;
}

/** What one pass found: the memory is gone, already indexed, or needs `revision` indexed. */
export type IndexPlan =
  { kind: 'deleted' } | { kind: 'current'; revision: number } | { kind: 'index'; revision: number };

export interface IndexerDeps {
  store: RelationalStore;
  spaces: VectorSpaces;
  graph: GraphStore;
  extractor: EntityExtractor;
}

/**
 * Users whose store round trips one batch runs at once: a batch of 32
 * users' single memories makes a few queries per user, and one after another
 * they held a batch for seconds while saves kept the pool busy.
 */
export const USER_CONCURRENCY = 8;

/** Runs `fn` for each user's group, {@link USER_CONCURRENCY} users at once. */
export function forEachUser<R>(
  byUser: Map<string, R[]>,
  fn: (userId: string, values: R[]) => Promise<void>,
): Promise<void> {
  return mapLimit([...byUser], USER_CONCURRENCY, ([userId, values]) => fn(userId, values));
}

/** `items` grouped by their user, each group's values in the items' order. */
export function groupByUser<T, R>(
  items: readonly T[],
  userOf: (item: T) => string,
  valueOf: (item: T) => R,
): Map<string, R[]> {
  const byUser = new Map<string, R[]>();
  for (const item of items) {
    const userId = userOf(item);
    const group = byUser.get(userId);
    if (group) group.push(valueOf(item));
    else byUser.set(userId, [valueOf(item)]);
  }
  return byUser;
}
