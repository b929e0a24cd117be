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

/** A memory's graph to write, with its user. */
export interface UserMemoryGraph {
  userId: string;
  memoryId: string;
  graph: MemoryGraph;
}

/** {@link writeGraphsAcross} for memories of one user. */
export function writeGraphs(
  tx: SqlExecutor,
  userId: string,
  items: readonly { memoryId: string; graph: MemoryGraph }[],
): Promise<void> {
  return writeGraphsAcross(
    tx,
    items.map((item) => ({ userId, ...item })),
  );
}

const pairKey = (userId: string, key: string) => `${userId}\u0000${key}`;

/**
 * Replaces the graphs of `items` (memories of one user or of several) with a
 * fixed number of statements however many there are and whoever they belong
 * to: every row written carries its memory's user. Named entities are written
 * first, the last memory of the user naming one setting its name and type;
 * then entities only related to, which keep any name already there: the same
 * result as writing the memories one after another, except that an entity one
 * of them stops naming keeps its name while another in the batch still
 * relates to it. Takes each user's graph lock, in one order.
 */
export async function writeGraphsAcross(
  tx: SqlExecutor,
  items: readonly UserMemoryGraph[],
): Promise<void> {
  // A memory given twice ends with its last graph, as with writes one after another.
  const latest = new Map(items.map((item) => [pairKey(item.userId, item.memoryId), item]));
  const graphs = [...latest.values()].map(({ userId, memoryId, graph }) => ({
    userId,
    memoryId,
    ...prepareMemoryGraph(graph),
  }));
  if (graphs.length === 0) return;
  await tx.query(
    `SELECT pg_advisory_xact_lock($1, k)
     FROM (SELECT DISTINCT hashtext(u) AS k FROM unnest($2::text[]) AS u ORDER BY 1) AS locks`,
    [GRAPH_LOCK_CLASS, [...new Set(graphs.map((g) => g.userId))]],
  );
  const pairs = [graphs.map((g) => g.userId), graphs.map((g) => g.memoryId)];
  await tx.query(
    `DELETE FROM graph_relations r USING unnest($1::uuid[], $2::uuid[]) AS t(user_id, memory_id)
     WHERE r.user_id = t.user_id AND r.memory_id = t.memory_id`,
    pairs,
  );
  const gone = await tx.query<{ user_id: string; entity_key: string }>(
    `DELETE FROM graph_mentions m USING unnest($1::uuid[], $2::uuid[]) AS t(user_id, memory_id)
     WHERE m.user_id = t.user_id AND m.memory_id = t.memory_id
     RETURNING m.user_id, m.entity_key`,
    pairs,
  );
  const named = new Map<string, PreparedEntity & { userId: string }>();
  const implied = new Map<string, PreparedEntity & { userId: string }>();
  for (const { userId, entities } of graphs) {
    for (const e of entities) {
      const key = pairKey(userId, e.key);
      if (e.explicit) named.set(key, { ...e, userId });
      else if (!implied.has(key)) implied.set(key, { ...e, userId });
    }
  }
  for (const [group, onConflict] of [
    [[...named.values()], 'DO UPDATE SET name = EXCLUDED.name, type = EXCLUDED.type'],
    [[...implied].filter(([key]) => !named.has(key)).map(([, e]) => e), 'DO NOTHING'],
  ] as const) {
    if (group.length === 0) continue;
    await tx.query(
      `INSERT INTO graph_entities (user_id, key, name, type)
       SELECT t.user_id, t.key, t.name, t.type
       FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS t(user_id, key, name, type)
       ON CONFLICT (user_id, key) ${onConflict}`,
      [
        group.map((e) => e.userId),
        group.map((e) => e.key),
        group.map((e) => e.name),
        group.map((e) => e.type),
      ],
    );
  }
  const mentions = graphs.flatMap((g) => g.entities.map((e) => [g.userId, g.memoryId, e.key]));
  if (mentions.length > 0) {
    await tx.query(
      `INSERT INTO graph_mentions (user_id, memory_id, entity_key)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[])`,
      [0, 1, 2].map((i) => mentions.map((m) => m[i])),
    );
  }
  const relations = graphs.flatMap((g) =>
    g.relations.map((r) => ({ ...r, userId: g.userId, memoryId: g.memoryId })),
  );
  if (relations.length > 0) {
    await tx.query(
      `INSERT INTO graph_relations (user_id, memory_id, from_key, to_key, type)
       SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[])`,
      [
        relations.map((r) => r.userId),
        relations.map((r) => r.memoryId),
        relations.map((r) => r.fromKey),
        relations.map((r) => r.toKey),
        relations.map((r) => r.type),
      ],
    );
  }
  const previous = [...new Map(gone.map((r) => [pairKey(r.user_id, r.entity_key), r])).values()];
  if (previous.length > 0) {
    await tx.query(
      `DELETE FROM graph_entities e USING unnest($1::uuid[], $2::text[]) AS t(user_id, key)
       WHERE e.user_id = t.user_id AND e.key = t.key
         AND NOT EXISTS (
           SELECT 1 FROM graph_mentions m WHERE m.user_id = e.user_id AND m.entity_key = e.key
         )`,
      [previous.map((r) => String(r.user_id)), previous.map((r) => r.entity_key)],
    );
  }
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
