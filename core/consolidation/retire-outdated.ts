import type { Memory, RelationalStore } from '../ports/relational-store.ts';
import { planRetirements, slotOf, supersededIds, type Retirement } from './rules.ts';

/**
 * The page's memories that stopped being true: expired, or replaced by the
 * newest active memory of their slot or by a memory that names them in
 * `supersedes`. Looks those up in the store; changes nothing.
 */
export async function planPageRetirements(
  store: Pick<RelationalStore, 'listMemories' | 'getMemories'>,
  userId: string,
  page: Memory[],
  now: Date,
): Promise<Retirement[]> {
  const newestInSlot = new Map<string, Memory>();
  for (const slot of new Set(page.map(slotOf).filter((s) => s !== null))) {
    const { items } = await store.listMemories(userId, { tag: slot, state: 'active', limit: 1 });
    if (items[0]) newestInSlot.set(slot, items[0]);
  }
  const named = [...new Set(page.flatMap(supersededIds))];
  const superseded = named.length > 0 ? await store.getMemories(userId, named) : [];
  return planRetirements({ page, now, newestInSlot, superseded });
}
