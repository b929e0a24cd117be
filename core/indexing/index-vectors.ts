import type { Memory } from '../ports/relational-store.ts';
import {
  groupByUser,
  type IndexerDeps,
  type IndexPlan,
  type IndexTarget,
} from './indexing-types.ts';

type Deps = Pick<IndexerDeps, 'store' | 'spaces'>;

/**
 * Embeds the memory's current content into every kept space and upserts its
 * vectors. An indexed memory is left alone unless `force` (its vectors may
 * have been overwritten by a slower, older pass).
 */
export async function indexVector(
  { store, spaces }: Deps,
  { userId, memoryId }: IndexTarget,
  force = false,
): Promise<IndexPlan> {
  const memory = await store.getMemory(userId, memoryId);
  if (!memory) return { kind: 'deleted' };
  if (memory.indexState === 'indexed' && !force) {
    return { kind: 'current', revision: memory.revision };
  }
  for (const space of spaces.writing()) {
    const [vector] = await space.embedder.embed([memory.content]);
    await space.index.upsert([{ id: memory.id, userId, vector: vector!, tags: memory.tags }]);
  }
  return { kind: 'index', revision: memory.revision };
}

/**
 * {@link indexVector} for many memories at once: one embedding call and one
 * upsert per space for all that need it. Plans come back in target order.
 */
export async function indexVectors(
  { store, spaces }: Deps,
  targets: readonly IndexTarget[],
): Promise<IndexPlan[]> {
  const found = new Map<string, Memory>();
  const byUser = groupByUser(
    targets,
    (t) => t.userId,
    (t) => t.memoryId,
  );
  for (const [userId, ids] of byUser) {
    for (const m of await store.getMemories(userId, ids)) found.set(m.id, m);
  }
  const due = [...new Set(targets.map((t) => t.memoryId))]
    .map((id) => found.get(id))
    .filter((m): m is Memory => m !== undefined && m.indexState !== 'indexed');
  for (const space of spaces.writing()) {
    if (due.length === 0) break;
    const vectors = await space.embedder.embed(due.map((m) => m.content));
    await space.index.upsert(
      due.map((m, i) => ({ id: m.id, userId: m.userId, vector: vectors[i]!, tags: m.tags })),
    );
  }
  return targets.map(({ memoryId }): IndexPlan => {
    const memory = found.get(memoryId);
    if (!memory) return { kind: 'deleted' };
    return memory.indexState === 'indexed'
      ? { kind: 'current', revision: memory.revision }
      : { kind: 'index', revision: memory.revision };
  });
}
