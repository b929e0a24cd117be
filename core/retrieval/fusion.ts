import type { GraphHit } from '../ports/graph-store.ts';

/*
 * The fusion's constants below were chosen by
 * `npm run tune:fusion -- --data ../shared/data/locomo` (scripts/tune-fusion.ts,
 * bench/quality/tune/): leave-one-conversation-out cross-validation over a grid
 * on LoCoMo's development split (6 conversations, 883 questions, e5-small-v2,
 * the search path, turns dated by their sessions, vector and full-text
 * searching a time question's event words, the memories of a named time
 * searched besides, news "since we last talked" read as a time). Held-out
 * evidence recall@10 of that procedure: 0.740 (temporal 0.868), against 0.700
 * (temporal 0.792) without the time signal and 0.683 for plain fusion (k 60,
 * every weight 1). Report of 2026-12-06
 * (bench/reports/tune-fusion-2026-12-06T19-42-15-962Z.md, over the answers
 * retrieved by the 19:01 run, the memories' times read again by this
 * checkout); below, its best point on all six (in-sample @10 0.750, @5 0.640),
 * the same as before the "since" reading. Re-run the script when a retriever
 * changes, and ship what it chooses.
 */

/**
 * Reciprocal-rank fusion's constant: a list's item at rank r adds
 * `weight / (RRF_K + r)`; the smaller it is, the more a retriever's first
 * ranks count against its later ones.
 */
export const RRF_K = 0.5;

/**
 * Weights of the fused lists: vector similarity, full-text (BM25), the
 * entity graph (its one-hop list at half this) and the time signal (see
 * time-signal.ts). Vector is the unit: only the ratios matter. The graph
 * counts little on LoCoMo (every weight from 0 to 0.25 scores alike there);
 * at 0 it still names the hits it found in their `sources`.
 */
export const FUSION_WEIGHTS = { vector: 1, lexical: 0.85, graph: 0, time: 6 } as const;

/**
 * How many of the vector and full-text retrievers' best candidates the time
 * signal looks through for memories whose dates answer the query.
 */
export const TIME_POOL = 75;

/**
 * How many memories of the time a query names ("in May 2023") the time
 * signal asks for besides its pool: the nearest by meaning among those whose
 * event happened then (0: it asks for none).
 */
export const TIME_SPAN_POOL = 30;

/** The weights a fusion may be given instead of {@link FUSION_WEIGHTS} (the tuning sweeps them). */
export type FusionWeights = { readonly [K in keyof typeof FUSION_WEIGHTS]: number };

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
export function fuseRankings(lists: readonly RankedList[], k: number = RRF_K): FusedHit[] {
  const fused = new Map<string, { score: number; sources: Set<string> }>();
  for (const list of lists) {
    for (const item of list.items) {
      const entry = fused.get(item.id) ?? { score: 0, sources: new Set<string>() };
      entry.score += list.weight / (k + item.rank);
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
