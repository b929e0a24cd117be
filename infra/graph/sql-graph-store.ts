import { AppError } from '../../core/errors.ts';
import type {
  GraphEntity,
  GraphHit,
  GraphStore,
  MemoryGraph,
} from '../../core/ports/graph-store.ts';
import { migrate } from '../db/migrations.ts';
import type { SqlDriver, SqlExecutor } from '../db/sql-driver.ts';
import { isUuid } from '../db/sql-relational-store.ts';
import { clampLimit, entityKey, prepareMemoryGraph, type PreparedEntity } from './memory-graph.ts';

// Graph writes of one user take this advisory lock (with a hash of the user id),
// so removing an entity no memory mentions cannot race a write that mentions it again.
const GRAPH_LOCK_CLASS = 734_211;

const FOREIGN_KEY_VIOLATION = '23503';

// Memories reached from the query entities: directly (hops 0) or through a
// relation in either direction (hops 1). Each memory is ranked at its nearest
// distance, then by how many query entities reach it there. Keys compare by
// code point ("C"), as Neo4j compares strings, so both adapters agree on ties.
const FIND_MEMORIES_SQL = `
  WITH q AS (
    SELECT DISTINCT unnest($2::text[]) AS key
  ),
  reach AS (
    SELECT q.key AS query_key, q.key AS entity_key, 0 AS hops FROM q
    UNION ALL
    SELECT q.key, r.to_key, 1 FROM q
      JOIN graph_relations r ON r.user_id = $1 AND r.from_key = q.key
      WHERE $3::int >= 1
    UNION ALL
    SELECT q.key, r.from_key, 1 FROM q
      JOIN graph_relations r ON r.user_id = $1 AND r.to_key = q.key
      WHERE $3::int >= 1
  ),
  specific AS (
    SELECT x.* FROM reach x
    WHERE x.hops = 0 OR $5::int IS NULL OR (
      (SELECT count(*) FROM graph_mentions c WHERE c.user_id = $1 AND c.entity_key = x.entity_key)
        <= $5::int
      AND (SELECT count(*) FROM graph_mentions c WHERE c.user_id = $1 AND c.entity_key = x.query_key)
        <= $5::int
    )
  ),
  hits AS (
    SELECT m.memory_id, m.entity_key, x.query_key, x.hops
    FROM specific x
    JOIN graph_mentions m ON m.user_id = $1 AND m.entity_key = x.entity_key
  ),
  ranked AS (
    SELECT h.*, min(h.hops) OVER (PARTITION BY h.memory_id) AS nearest_hops FROM hits h
  ),
  nearest AS (
    SELECT memory_id, hops, count(DISTINCT query_key) AS matched,
      min(entity_key COLLATE "C") AS entity_key
    FROM ranked
    WHERE hops = nearest_hops
    GROUP BY memory_id, hops
    ORDER BY hops, matched DESC, memory_id
    LIMIT $4
  )
  SELECT n.memory_id, n.hops, e.name AS entity
  FROM nearest n
  JOIN graph_entities e ON e.user_id = $1 AND e.key = n.entity_key
  ORDER BY n.hops, n.matched DESC, n.memory_id`;

/**
 * A graph store over tables in the relational store (migration 2): the
 * embedded default, on PGlite or PostgreSQL. Shares `driver` with the
 * relational store and does not own it: `close()` leaves it open.
 * Memory ids are the relational store's, so a memory's graph can only be
 * written while the memory exists, and goes when it is deleted.
 */
export async function createSqlGraphStore(driver: SqlDriver): Promise<GraphStore> {
  await migrate(driver);

  const lockUser = (tx: SqlExecutor, userId: string) =>
    tx.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [GRAPH_LOCK_CLASS, userId]);

  /** Removes a memory's mentions and relations; returns the keys it mentioned. */
  const removeContribution = async (tx: SqlExecutor, userId: string, memoryId: string) => {
    await tx.query('DELETE FROM graph_relations WHERE user_id = $1 AND memory_id = $2', [
      userId,
      memoryId,
    ]);
    const gone = await tx.query<{ entity_key: string }>(
      'DELETE FROM graph_mentions WHERE user_id = $1 AND memory_id = $2 RETURNING entity_key',
      [userId, memoryId],
    );
    return gone.map((r) => r.entity_key);
  };

  const removeOrphans = (tx: SqlExecutor, userId: string, keys: readonly string[] | null) =>
    tx.query(
      `DELETE FROM graph_entities e
       WHERE e.user_id = $1 AND ($2::text[] IS NULL OR e.key = ANY($2::text[]))
         AND NOT EXISTS (
           SELECT 1 FROM graph_mentions m WHERE m.user_id = e.user_id AND m.entity_key = e.key
         )`,
      [userId, keys],
    );

  /**
   * Replaces the graphs of `items` (memories of one user) with a fixed number
   * of statements however many there are. Named entities are written first,
   * the last memory naming one setting its name and type; then entities only
   * related to, which keep any name already there: the same result as writing
   * the memories one after another, except that an entity one of them stops
   * naming keeps its name while another in the batch still relates to it.
   */
  const writeGraphs = async (
    tx: SqlExecutor,
    userId: string,
    items: readonly { memoryId: string; graph: MemoryGraph }[],
  ) => {
    // A memory given twice ends with its last graph, as with writes one after another.
    const latest = new Map(items.map((item) => [item.memoryId, item.graph]));
    const memoryIds = [...latest.keys()];
    const graphs = [...latest].map(([memoryId, graph]) => ({
      memoryId,
      ...prepareMemoryGraph(graph),
    }));
    await lockUser(tx, userId);
    await tx.query(
      'DELETE FROM graph_relations WHERE user_id = $1 AND memory_id = ANY($2::uuid[])',
      [userId, memoryIds],
    );
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
    const relations = graphs.flatMap((g) =>
      g.relations.map((r) => ({ ...r, memoryId: g.memoryId })),
    );
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
  };

  const upsertMemoryGraph = async (userId: string, memoryId: string, graph: MemoryGraph) => {
    if (!isUuid(userId) || !isUuid(memoryId)) throw memoryNotFound(memoryId);
    try {
      await driver.transaction((tx) => writeGraphs(tx, userId, [{ memoryId, graph }]));
    } catch (error) {
      if ((error as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) {
        throw memoryNotFound(memoryId, error);
      }
      throw error;
    }
  };

  return {
    kind: 'sql',

    upsertMemoryGraph,

    async upsertMemoryGraphs(userId, items) {
      const valid = isUuid(userId) ? items.filter((item) => isUuid(item.memoryId)) : [];
      if (valid.length === 0) return;
      try {
        await driver.transaction((tx) => writeGraphs(tx, userId, valid));
      } catch (error) {
        if ((error as { code?: unknown }).code !== FOREIGN_KEY_VIOLATION) throw error;
        // A memory went meanwhile: write the others one by one and skip the gone ones.
        for (const { memoryId, graph } of valid) {
          await upsertMemoryGraph(userId, memoryId, graph).catch((e: unknown) => {
            if (!(e instanceof AppError && e.code === 'not_found')) throw e;
          });
        }
      }
    },

    async deleteMemory(userId: string, memoryId: string) {
      if (!isUuid(userId) || !isUuid(memoryId)) return;
      await driver.transaction(async (tx) => {
        await lockUser(tx, userId);
        await removeContribution(tx, userId, memoryId);
        // All of the user's orphans, not only this memory's: deleting the memory
        // row first removes its mentions by cascade and leaves entities behind.
        await removeOrphans(tx, userId, null);
      });
    },

    async findMemories(userId, entityNames, options): Promise<GraphHit[]> {
      const limit = clampLimit(options.limit);
      const keys = [...new Set(entityNames.map(entityKey))].filter((k) => k !== '');
      if (!isUuid(userId) || keys.length === 0 || limit === 0) return [];
      const rows = await driver.query<{ memory_id: string; hops: number; entity: string }>(
        FIND_MEMORIES_SQL,
        [userId, keys, options.maxHops ?? 0, limit, options.maxMentions ?? null],
      );
      return rows.map((r) => ({
        memoryId: String(r.memory_id),
        entity: r.entity,
        hops: Number(r.hops),
      }));
    },

    async entitiesOf(userId, memoryId): Promise<GraphEntity[]> {
      if (!isUuid(userId) || !isUuid(memoryId)) return [];
      const rows = await driver.query<GraphEntity>(
        `SELECT e.name, e.type
         FROM graph_mentions m
         JOIN graph_entities e ON e.user_id = m.user_id AND e.key = m.entity_key
         WHERE m.user_id = $1 AND m.memory_id = $2
         ORDER BY e.key COLLATE "C"`,
        [userId, memoryId],
      );
      return rows.map((r) => ({ name: r.name, type: r.type }));
    },

    async entityNames(userId, options) {
      const limit = clampLimit(options.limit, 10_000);
      if (!isUuid(userId) || limit === 0) return [];
      // Most-mentioned first, so a small limit keeps the entities that matter most.
      const rows = await driver.query<{ name: string }>(
        `SELECT e.name
         FROM graph_entities e
         JOIN graph_mentions m ON m.user_id = e.user_id AND m.entity_key = e.key
         WHERE e.user_id = $1
         GROUP BY e.key, e.name
         ORDER BY count(*) DESC, e.key COLLATE "C"
         LIMIT $2`,
        [userId, limit],
      );
      return rows.map((r) => r.name);
    },

    async deleteOrphanEntities(userId) {
      if (!isUuid(userId)) return 0;
      return driver.transaction(async (tx) => {
        await lockUser(tx, userId);
        const gone = await tx.query(
          `DELETE FROM graph_entities e
           WHERE e.user_id = $1 AND NOT EXISTS (
             SELECT 1 FROM graph_mentions m WHERE m.user_id = e.user_id AND m.entity_key = e.key
           )
           RETURNING e.key`,
          [userId],
        );
        return gone.length;
      });
    },

    async ping() {
      await driver.query('SELECT 1 FROM graph_entities LIMIT 1');
    },

    async close() {
      // The driver belongs to whoever created it (usually shared with the relational store).
    },
  };
}

function memoryNotFound(memoryId: string, cause?: unknown): AppError {
  return new AppError('not_found', `memory ${memoryId} does not exist for this user`, {
    cause,
  });
}
