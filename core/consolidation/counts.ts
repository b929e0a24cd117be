// Pure values only: the consolidation workflow imports this file into its bundle.

/** What a consolidation did; every field is a count of things changed or removed. */
export interface ConsolidationCounts {
  /** Near-duplicates archived into the memory that survived them. */
  merged: number;
  /** Memories past their `metadata.expires_at`, archived. */
  expired: number;
  /**
   * Memories past their own expiry (`expires_at`), deleted with their
   * vectors and graph entries.
   */
  purged: number;
  /** Memories replaced by a newer one (same slot, or named in `supersedes`), archived. */
  superseded: number;
  /** Changes left alone because the user edited one of their memories meanwhile. */
  skipped: number;
  /** Vectors whose memory no longer exists, deleted from every space's index. */
  orphanVectors: number;
  /** Graph entities no memory mentions, deleted. */
  orphanEntities: number;
  /** Vector storage freed, estimated at 4 bytes per dimension per deleted vector. */
  bytesFreed: number;
}

/** Counts of a run that has done nothing yet. */
export const emptyCounts = (): ConsolidationCounts => ({
  merged: 0,
  expired: 0,
  purged: 0,
  superseded: 0,
  skipped: 0,
  orphanVectors: 0,
  orphanEntities: 0,
  bytesFreed: 0,
});

/** `a + b`, field by field. */
export function addCounts(a: ConsolidationCounts, b: ConsolidationCounts): ConsolidationCounts {
  const sum = emptyCounts();
  // Counts recorded before a field existed (a heartbeat, a continued run) lack it: zero.
  for (const key of Object.keys(sum) as (keyof ConsolidationCounts)[]) {
    sum[key] = (a[key] ?? 0) + (b[key] ?? 0);
  }
  return sum;
}
