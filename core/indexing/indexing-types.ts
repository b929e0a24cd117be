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
