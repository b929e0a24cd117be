import type { Narrative, RelationalStore, RetrievalFilter } from '../ports/relational-store.ts';
import { DEFAULT_STATE, matchesFilter } from '../retrieval/filters.ts';
import type { FusedHit } from '../retrieval/fusion.ts';
import { assembleContext } from './assemble.ts';
import type { ContextMemory } from './context-types.ts';

/**
 * Turns fused hits into the context: reads the best candidates (twice the
 * limit, since some may have been archived or deleted since they were
 * found), keeps those that pass the filter as they are now (active ones by
 * default) up to the limit, and writes the text with the narrative and each
 * memory's date.
 */
export async function hydrateContext(
  store: Pick<RelationalStore, 'getMemories'>,
  userId: string,
  found: { hits: readonly FusedHit[]; narrative: Narrative | null },
  limit: number,
  filter: RetrievalFilter = { state: DEFAULT_STATE },
): Promise<{ context: string; memories: ContextMemory[] }> {
  const top = found.hits.slice(0, limit * 2);
  const stored = await store.getMemories(
    userId,
    top.map((h) => h.id),
  );
  const byId = new Map(stored.map((m) => [m.id, m]));
  const memories = top
    .map((h) => ({ memory: byId.get(h.id), score: h.score, sources: h.sources }))
    .filter((m): m is ContextMemory => m.memory !== undefined && matchesFilter(m.memory, filter))
    .slice(0, limit);
  const context = assembleContext(
    found.narrative,
    memories.map((m) => m.memory),
  );
  return { context, memories };
}
