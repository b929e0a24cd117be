import type { Memory, RelationalStore } from '../ports/relational-store.ts';
import type { VectorSpaces } from '../ports/vector-space.ts';
import type { ConsolidateUserInput } from './consolidation-types.ts';
import {
  DEFAULT_MAX_TAGS,
  isMergeable,
  planMerges,
  type MergePlan,
  type Neighbour,
} from './rules.ts';

/**
 * Near-duplicate groups among the page's memories and their neighbours in
 * the serving space, leaving out memories already being retired. Reads
 * vectors and memories; changes nothing.
 */
export async function planPageMerges(
  deps: { store: Pick<RelationalStore, 'getMemories'>; spaces: VectorSpaces },
  input: ConsolidateUserInput,
  page: Memory[],
  retired: ReadonlySet<string>,
): Promise<MergePlan[]> {
  const { userId, now } = input;
  const space = deps.spaces.serving();
  const sources = page.filter((m) => !retired.has(m.id) && isMergeable(m, now));
  if (!space || sources.length === 0) return [];
  const vectors = await space.index.getVectors(
    userId,
    sources.map((m) => m.id),
  );
  const searched = sources.filter((m) => vectors.has(m.id));
  const hits = await space.index.searchBatch(
    searched.map((m) => ({ userId, vector: vectors.get(m.id)!, limit: input.neighbours ?? 10 })),
  );
  const neighbours = new Map<string, Neighbour[]>();
  searched.forEach((m, i) => {
    const close = (hits[i] ?? []).filter((h) => h.score >= input.threshold && h.id !== m.id);
    if (close.length > 0) neighbours.set(m.id, close);
  });
  if (neighbours.size === 0) return [];
  const memories = new Map(page.map((m) => [m.id, m]));
  const missing = [...new Set([...neighbours.values()].flat().map((h) => h.id))].filter(
    (id) => !memories.has(id),
  );
  for (const m of await deps.store.getMemories(userId, missing)) memories.set(m.id, m);
  return planMerges({
    sources,
    neighbours,
    memories,
    threshold: input.threshold,
    now,
    exclude: retired,
    maxTags: input.maxTags ?? DEFAULT_MAX_TAGS,
  });
}
