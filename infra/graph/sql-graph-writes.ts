import type { MemoryGraph } from '../../core/ports/graph-store.ts';
import type { SqlExecutor } from '../db/sql-driver.ts';
import { prepareMemoryGraph, type PreparedEntity } from './memory-graph.ts';

// The write transactions of the SQL graph store: each takes the user's lock first.

// Graph writes of one user take this advisory lock (with a hash of the user id),
// so removing an entity no memory mentions cannot race a write that mentions it again.
const GRAPH_LOCK_CLASS = 734_211;

/** Takes the user's graph write lock until the transaction ends. */
async function lockUserGraph(tx: SqlExecutor, userId: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [GRAPH_LOCK_CLASS, userId]);
}

/** Removes a memory's mentions and relations; returns the keys it mentioned. */
async function removeContribution(
  tx: SqlExecutor,
  userId: string,
  memoryId: string,
): Promise<string[]> {
  await tx.query('DELETE FROM graph_relations WHERE user_id = $1 AND memory_id = $2', [
    userId,
    memoryId,
  ]);
  const gone = await tx.query<{ entity_key: string }>(
    'DELETE FROM graph_mentions WHERE user_id = $1 AND memory_id = $2 RETURNING entity_key',
    [userId, memoryId],
  );
  return gone.map((r) => r.entity_key);
}

/** Removes the user's entities no memory mentions: among `keys`, or all when `keys` is null. */
async function removeOrphans(
  tx: SqlExecutor,
  userId: string,
  keys: readonly string[] | null,
): Promise<void> {
  await tx.query(
    `DELETE FROM graph_entities e
     WHERE e.user_id = $1 AND ($2::text[] IS NULL OR e.key = ANY($2::text[]))
       AND NOT EXISTS (
         SELECT 1 FROM graph_mentions m WHERE m.user_id = e.user_id AND m.entity_key = e.key
       )`,
    [userId, keys],
  );
}

/**
 * Replaces the graphs of `items` (memories of one user) with a fixed number
 * of statements however many there are. Named entities are written first,
 * the last memory naming one setting its name and type; then entities only
 * related to, which keep any name already there: the same result as writing
 * the memories one after another, except that an entity one of them stops
 * naming keeps its name while another in the batch still relates to it.
 */
export async function writeGraphs(
  tx: SqlExecutor,
  userId: string,
  items: readonly { memoryId: string; graph: MemoryGraph }[],
): Promise<void> {
  // A memory given twice ends with its last graph, as with writes one after another.
  const latest = new Map(items.map((item) => [item.memoryId, item.graph]));
  const memoryIds = [...latest.keys()];
  const graphs = [...latest].map(([memoryId, graph]) => ({
    memoryId,
    ...prepareMemoryGraph(graph),
  }));
  await lockUserGraph(tx, userId);
  await tx.query('DELETE FROM graph_relations WHERE user_id = $1 AND memory_id = ANY($2::uuid[])', [
    userId,
    memoryIds,
  ]);
  const gone = await tx.query<{ entity_key: string }>(
    `DELETE FROM graph_mentions WHERE user_id = $1 AND memory_id = ANY($2::uuid[])
     RETURNING entity_key`,
    [userId, memoryIds],
  );
  const named = new Map<string, PreparedEntity>();
  const implied = new Map<string, PreparedEntity>();
  for (const { entities } of graphs) {
    for (const e of entities) {
      if (e.explicit) named.set(e.key, e);
      else if (!implied.has(e.key)) implied.set(e.key, e);
    }
  }
  for (const [group, onConflict] of [
    [[...named.values()], 'DO UPDATE SET name = EXCLUDED.name, type = EXCLUDED.type'],
    [[...implied.values()].filter((e) => !named.has(e.key)), 'DO NOTHING'],
  ] as const) {
    if (group.length === 0) continue;
    await tx.query(
      `INSERT INTO graph_entities (user_id, key, name, type)
       SELECT $1, t.key, t.name, t.type
       FROM unnest($2::text[], $3::text[], $4::text[]) AS t(key, name, type)
       ON CONFLICT (user_id, key) ${onConflict}`,
      [userId, group.map((e) => e.key), group.map((e) => e.name), group.map((e) => e.type)],
    );
  }
  const mentions = graphs.flatMap((g) => g.entities.map((e) => [g.memoryId, e.key] as const));
  if (mentions.length > 0) {
    await tx.query(
      `INSERT INTO graph_mentions (user_id, memory_id, entity_key)
       SELECT $1, t.memory_id, t.entity_key
       FROM unnest($2::uuid[], $3::text[]) AS t(memory_id, entity_key)`,
      [userId, mentions.map((m) => m[0]), mentions.map((m) => m[1])],
    );
  }
  const relations = graphs.flatMap((g) => g.relations.map((r) => ({ ...r, memoryId: g.memoryId })));
  if (relations.length > 0) {
    await tx.query(
      `INSERT INTO graph_relations (user_id, memory_id, from_key, to_key, type)
       SELECT $1, t.memory_id, t.from_key, t.to_key, t.type
       FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[])
         AS t(memory_id, from_key, to_key, type)`,
      [
        userId,
        relations.map((r) => r.memoryId),
        relations.map((r) => r.fromKey),
        relations.map((r) => r.toKey),
        relations.map((r) => r.type),
      ],
    );
  }
  const previous = [...new Set(gone.map((r) => r.entity_key))];
  if (previous.length > 0) await removeOrphans(tx, userId, previous);
}

/** Removes a memory's graph and every entity of the user no memory mentions any more. */
export async function deleteMemoryGraph(
  tx: SqlExecutor,
  userId: string,
  memoryId: string,
): Promise<void> {
  await lockUserGraph(tx, userId);
  await removeContribution(tx, userId, memoryId);
  // All of the user's orphans, not only this memory's: deleting the memory
  // row first removes its mentions by cascade and leaves entities behind.
  await removeOrphans(tx, userId, null);
}

/** Removes every entity of the user that no memory mentions; returns how many. */
export async function deleteOrphans(tx: SqlExecutor, userId: string): Promise<number> {
  await lockUserGraph(tx, userId);
  const gone = await tx.query(
    `DELETE FROM graph_entities e
     WHERE e.user_id = $1 AND NOT EXISTS (
       SELECT 1 FROM graph_mentions m WHERE m.user_id = e.user_id AND m.entity_key = e.key
     )
     RETURNING e.key`,
    [userId],
  );
  return gone.length;
}
