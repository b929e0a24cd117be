import type { RelationalStore } from '../ports/relational-store.ts';

type Store = Pick<RelationalStore, 'getMemories'>;

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
