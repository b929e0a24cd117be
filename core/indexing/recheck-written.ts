import type { MemoryRef, RelationalStore } from '../ports/relational-store.ts';

type Store = Pick<RelationalStore, 'getMemories'>;
type StoreOf = Pick<RelationalStore, 'getMemoriesOf'>;

/**
 * The ids among `ids` (memories of one user just written to an index) whose
 * memory is gone: deleted while they were being indexed. Read after the write
 * has returned, so a delete either shows here (and the writer removes what it
 * wrote) or commits after the write, and the delete's own clean-up (`forget`,
 * which runs after the delete's commit) finds the entry and removes it.
 */
export async function goneAfterWrite(
  store: Store,
  userId: string,
  ids: readonly string[],
): Promise<string[]> {
  if (ids.length === 0) return [];
  const present = new Set((await store.getMemories(userId, ids)).map((m) => m.id));
  return ids.filter((id) => !present.has(id));
}

/** {@link goneAfterWrite} for memories of several users, in one read. */
export async function goneAfterWriteOf<T extends MemoryRef>(
  store: StoreOf,
  refs: readonly T[],
): Promise<T[]> {
  if (refs.length === 0) return [];
  const present = new Set((await store.getMemoriesOf(refs)).map((m) => `${m.userId}/${m.id}`));
  return refs.filter((r) => !present.has(`${r.userId}/${r.memoryId}`));
}
