import { AppError } from '../../core/errors.ts';
import type {
  GraphEntity,
  GraphHit,
  GraphStore,
  MemoryGraph,
} from '../../core/ports/graph-store.ts';
import { migrate } from '../db/migrations.ts';
import type { SqlDriver } from '../db/sql-driver.ts';
import { isUuid } from '../db/sql-relational-store.ts';
import { clampLimit, entityKey } from './memory-graph.ts';
import {
  deleteMemoryGraph,
  deleteOrphans,
  writeGraphs,
  writeGraphsAcross,
} from './sql-graph-writes.ts';

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

  const upsertMemoryGraphs: GraphStore['upsertMemoryGraphs'] = async (userId, items) => {
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
  };

  return {
    kind: 'sql',

    upsertMemoryGraph,

    upsertMemoryGraphs,

    async upsertGraphsAcross(items) {
      const valid = items.filter((item) => isUuid(item.userId) && isUuid(item.memoryId));
      if (valid.length === 0) return;
      try {
        await driver.transaction((tx) => writeGraphsAcross(tx, valid));
      } catch (error) {
        if ((error as { code?: unknown }).code !== FOREIGN_KEY_VIOLATION) throw error;
        // A memory went meanwhile: write user by user, which skips the gone ones.
        for (const userId of new Set(valid.map((item) => item.userId))) {
          await upsertMemoryGraphs(
            userId,
            valid.filter((item) => item.userId === userId),
          );
        }
      }
    },

    async deleteMemory(userId, memoryId) {
      if (!isUuid(userId) || !isUuid(memoryId)) return;
      await driver.transaction((tx) => deleteMemoryGraph(tx, userId, memoryId));
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
      return driver.transaction((tx) => deleteOrphans(tx, userId));
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
