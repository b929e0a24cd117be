import type { MemoryRef, RelationalStore } from '../ports/relational-store.ts';

type Store = Pick<RelationalStore, 'getMemoriesOf'>;

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
  const refs = ids.map((memoryId) => ({ userId, memoryId }));
  return (await goneAfterWriteOf(store, refs)).map((ref) => ref.memoryId);
}

/** {@link goneAfterWrite} for memories of several users, in one read. */
export async function goneAfterWriteOf<T extends MemoryRef>(
  store: Store,
  refs: readonly T[],
): Promise<T[]> {
  if (refs.length === 0) return [];
  const present = new Set((await store.getMemoriesOf(refs)).map((m) => `${m.userId}/${m.id}`));
  return refs.filter((r) => !present.has(`${r.userId}/${r.memoryId}`));
}
