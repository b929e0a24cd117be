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
  deps: Deps,
  targets: readonly IndexTarget[],
  force: readonly string[] = [],
): Promise<IndexPlan[]> {
  const { store } = deps;
  const found = await store.getMemoriesOf(targets);
  const { plans, due } = planVectors(targets, found, force);
  const written = await writeVectors(deps, due);
  const gone = await removeGone(store, written, due);
  return plans.map((plan, i) =>
    gone.has(targets[i]!.memoryId) ? { kind: 'deleted' as const } : plan,
  );
}

/**
 * What each target needs, from its memory as just read (`found`): gone
 * (`deleted`), already indexed (`current`, unless its id is in `force`) or
 * to be indexed at the revision read; `due` holds those memories once each.
 */
export function planVectors(
  targets: readonly IndexTarget[],
  found: readonly Memory[],
  force: readonly string[] = [],
): { plans: IndexPlan[]; due: Memory[] } {
  const forced = new Set(force);
  const byId = new Map(found.map((m) => [m.id, m]));
  const due = [...new Set(targets.map((t) => t.memoryId))]
    .map((id) => byId.get(id))
    .filter(
      (m): m is Memory => m !== undefined && (m.indexState !== 'indexed' || forced.has(m.id)),
    );
  const plans = targets.map(({ memoryId }): IndexPlan => {
    const memory = byId.get(memoryId);
    if (!memory) return { kind: 'deleted' };
    return memory.indexState === 'indexed' && !forced.has(memoryId)
      ? { kind: 'current', revision: memory.revision }
      : { kind: 'index', revision: memory.revision };
  });
  return { plans, due };
}

/**
 * Embeds `memories` (as read) into every kept space and upserts their
 * vectors: one embedding call and one upsert per space. Returns the spaces
 * written. The caller must then read which of them are gone
 * ({@link goneAfterWriteOf}) and remove those vectors.
 */
export async function writeVectors(
  { spaces }: Pick<Deps, 'spaces'>,
  memories: readonly Memory[],
): Promise<VectorSpace[]> {
  const written = spaces.writing();
  if (memories.length === 0) return written;
  // Shortest first: the embedder cuts a long call into calls of its own maximum and pads
  // the texts of each model run to the longest, so neighbours of one length waste least.
  const due = [...memories].sort((a, b) => a.content.length - b.content.length);
  for (const space of written) {
    const vectors = await space.embedder.embed(due.map((m) => m.content));
    await space.index.upsert(
      due.map((m, i) => ({ id: m.id, userId: m.userId, vector: vectors[i]!, ...filterPayload(m) })),
    );
  }
  return written;
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
