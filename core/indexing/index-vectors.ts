import type { Memory } from '../ports/relational-store.ts';
import type { VectorSpace } from '../ports/vector-space.ts';
import { filterPayload } from '../retrieval/filters.ts';
import {
  groupByUser,
  type IndexerDeps,
  type IndexPlan,
  type IndexTarget,
} from './indexing-types.ts';
import { goneAfterWrite, goneAfterWriteOf } from './recheck-written.ts';

type Deps = Pick<IndexerDeps, 'store' | 'spaces'>;

/**
 * Embeds the memory's current content into every kept space and upserts its
 * vectors. An indexed memory is left alone unless `force` (its vectors may
 * have been overwritten by a slower, older pass). A memory deleted while it
 * was embedded loses the vectors just written (`deleted`).
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
  const written = spaces.writing();
  for (const space of written) {
    const [vector] = await space.embedder.embed([memory.content]);
    await space.index.upsert([
      { id: memory.id, userId, vector: vector!, ...filterPayload(memory) },
    ]);
  }
  if ((await goneAfterWrite(store, userId, [memory.id])).length > 0) {
    for (const space of written) await space.index.delete(userId, [memory.id]);
    return { kind: 'deleted' };
  }
  return { kind: 'index', revision: memory.revision };
}

/**
 * {@link indexVector} for many memories at once: one embedding call and one
 * upsert per space for all that need it (the ids in `force` even when marked
 * indexed). Plans come back in target order; memories deleted meanwhile lose
 * the vectors just written (`deleted`).
 */
export async function indexVectors(
  { store, spaces }: Deps,
  targets: readonly IndexTarget[],
  force: readonly string[] = [],
): Promise<IndexPlan[]> {
  const forced = new Set(force);
  const found = new Map((await store.getMemoriesOf(targets)).map((m) => [m.id, m]));
  const due = [...new Set(targets.map((t) => t.memoryId))]
    .map((id) => found.get(id))
    .filter(
      (m): m is Memory => m !== undefined && (m.indexState !== 'indexed' || forced.has(m.id)),
    );
  const written = spaces.writing();
  for (const space of written) {
    if (due.length === 0) break;
    const vectors = await space.embedder.embed(due.map((m) => m.content));
    await space.index.upsert(
      due.map((m, i) => ({ id: m.id, userId: m.userId, vector: vectors[i]!, ...filterPayload(m) })),
    );
  }
  const gone = await removeGone(store, written, due);
  return targets.map(({ memoryId }): IndexPlan => {
    const memory = found.get(memoryId);
    if (!memory || gone.has(memoryId)) return { kind: 'deleted' };
    return memory.indexState === 'indexed' && !forced.has(memoryId)
      ? { kind: 'current', revision: memory.revision }
      : { kind: 'index', revision: memory.revision };
  });
}

/**
 * Removes the vectors just written for memories deleted meanwhile (see
 * {@link goneAfterWrite}); returns their ids.
 */
async function removeGone(
  store: Deps['store'],
  written: readonly VectorSpace[],
  memories: readonly Memory[],
): Promise<Set<string>> {
  const missing = await goneAfterWriteOf(
    store,
    memories.map((m) => ({ userId: m.userId, memoryId: m.id })),
  );
  const byUser = groupByUser(
    missing,
    (m) => m.userId,
    (m) => m.memoryId,
  );
  for (const [userId, ids] of byUser) {
    for (const space of written) await space.index.delete(userId, ids);
  }
  return new Set(missing.map((m) => m.memoryId));
}
