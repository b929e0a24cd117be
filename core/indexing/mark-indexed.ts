import type { RelationalStore } from '../ports/relational-store.ts';
import type { IndexTarget } from './indexing-types.ts';

type Store = Pick<
  RelationalStore,
  'markIndexed' | 'markIndexedAcross' | 'getMemory' | 'getMemoriesOf'
>;

/** Records the revision as indexed; `stale` when the memory changed meanwhile. */
export async function markIndexed(
  store: Store,
  { userId, memoryId }: IndexTarget,
  revision: number,
): Promise<{ stale: boolean }> {
  const recorded = await store.markIndexed(userId, memoryId, revision);
  if (recorded) return { stale: false };
  const memory = await store.getMemory(userId, memoryId);
  return { stale: memory !== null && memory.revision !== revision };
}

/**
 * {@link markIndexed} for many memories, of one user or of several, in one
 * transaction; returns those that changed meanwhile.
 */
export async function markIndexedMany(
  store: Store,
  items: readonly { target: IndexTarget; revision: number }[],
): Promise<{ stale: IndexTarget[] }> {
  const recorded = new Set(
    (
      await store.markIndexedAcross(items.map(({ target, revision }) => ({ ...target, revision })))
    ).map((ref) => `${ref.userId}/${ref.memoryId}`),
  );
  const missed = items.filter(({ target }) => !recorded.has(`${target.userId}/${target.memoryId}`));
  if (missed.length === 0) return { stale: [] };
  const current = new Map(
    (await store.getMemoriesOf(missed.map(({ target }) => target))).map((m) => [m.id, m]),
  );
  const stale = missed.flatMap(({ target, revision }) => {
    const memory = current.get(target.memoryId);
    return memory && memory.revision !== revision ? [target] : [];
  });
  return { stale };
}
