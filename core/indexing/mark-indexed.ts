import type { RelationalStore } from '../ports/relational-store.ts';
import { forEachUser, groupByUser, type IndexTarget } from './indexing-types.ts';

type Store = Pick<RelationalStore, 'markIndexed' | 'markIndexedMany' | 'getMemory' | 'getMemories'>;

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
 * {@link markIndexed} for many memories, one transaction per user (a few users at
 * once); returns
 * those that changed meanwhile.
 */
export async function markIndexedMany(
  store: Store,
  items: readonly { target: IndexTarget; revision: number }[],
): Promise<{ stale: IndexTarget[] }> {
  const stale: IndexTarget[] = [];
  const byUser = groupByUser(
    items,
    (item) => item.target.userId,
    ({ target, revision }) => ({ memoryId: target.memoryId, revision }),
  );
  await forEachUser(byUser, async (userId, marks) => {
    const recorded = new Set(await store.markIndexedMany(userId, marks));
    const missed = marks.filter((m) => !recorded.has(m.memoryId));
    if (missed.length === 0) return;
    const current = new Map(
      (
        await store.getMemories(
          userId,
          missed.map((m) => m.memoryId),
        )
      ).map((m) => [m.id, m]),
    );
    for (const { memoryId, revision } of missed) {
      const memory = current.get(memoryId);
      if (memory && memory.revision !== revision) stale.push({ userId, memoryId });
    }
  });
  return { stale };
}
