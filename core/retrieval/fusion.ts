import type { GraphHit } from '../ports/graph-store.ts';

// Reciprocal-rank fusion constant: damps the weight of the very top ranks.
export const RRF_K = 60;

/** One retriever's ranked answer; `rank` 1 is its best (ties may share a rank). */
export interface RankedList {
  source: string;
  weight: number;
  items: { id: string; rank: number }[];
}

export interface FusedHit {
  id: string;
  score: number;
  sources: string[];
}

/** Weighted reciprocal-rank fusion: a memory found by several retrievers rises. */
export function fuseRankings(lists: readonly RankedList[]): FusedHit[] {
  const fused = new Map<string, { score: number; sources: Set<string> }>();
  for (const list of lists) {
    for (const item of list.items) {
      const entry = fused.get(item.id) ?? { score: 0, sources: new Set<string>() };
      entry.score += list.weight / (RRF_K + item.rank);
      entry.sources.add(list.source);
      fused.set(item.id, entry);
    }
  }
  return [...fused.entries()]
    .map(([id, e]) => ({ id, score: e.score, sources: [...e.sources].sort() }))
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : 1));
}

/**
 * An entity leading to more than this many of `pool` candidates is generic:
 * it tells nothing about which memory is meant.
 */
export const genericMentions = (pool: number) => Math.max(3, Math.floor(pool / 4));

/** Ranks 1..n in list order. */
export const ranked = (ids: readonly string[]) => ids.map((id, i) => ({ id, rank: i + 1 }));

/**
 * Graph hits worth fusing, with tie-aware ranks. An entity that leads to a
 * large share of the candidates ("Durable" in fifty notes that all start with
 * it) tells nothing about which one is meant, so its hits are dropped; hits
 * the graph cannot tell apart (same hops) share one rank, so the graph never
 * reorders what only the other retrievers can order. Hop-1 hits come back as
 * a second list at half weight.
 */
export function graphLists(hits: readonly GraphHit[], pool: number, weight = 1): RankedList[] {
  const perEntity = new Map<string, number>();
  for (const hit of hits) perEntity.set(hit.entity, (perEntity.get(hit.entity) ?? 0) + 1);
  const generic = genericMentions(pool);
  const seen = new Set<string>();
  const kept = hits.filter(
    (hit) =>
      (perEntity.get(hit.entity) ?? 0) <= generic &&
      !seen.has(hit.memoryId) &&
      seen.add(hit.memoryId),
  );
  return ([0, 1] as const).map((hops) => {
    const group = kept.filter((h) => h.hops === hops);
    const firstRank = kept.findIndex((h) => h.hops === hops) + 1;
    const shared = firstRank + (group.length - 1) / 2;
    return {
      source: 'graph',
      weight: hops === 0 ? weight : weight / 2,
      items: group.map((h) => ({ id: h.memoryId, rank: shared })),
    };
  });
}
