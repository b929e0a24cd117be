/**
 * How many indexing runs share the users of one task queue. Fixed in code:
 * a user must map to the same shard in every process, or two runs could
 * index one memory at once. Eight keeps a handful of runs in the Temporal UI
 * while batches still form from many users' saves.
 */
export const INDEX_SHARDS = 8;

/** The indexing shard of a user: FNV-1a of the id, stable across processes and releases. */
export function shardOfUser(userId: string, shards = INDEX_SHARDS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < userId.length; i++) {
    hash ^= userId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}
