import neo4j, { type Driver, type ManagedTransaction, type Session } from 'neo4j-driver';
import { AppError } from '../../core/errors.ts';
import type { GraphEntity, GraphHit, GraphStore } from '../../core/ports/graph-store.ts';
import { clampLimit, entityKey } from './memory-graph.ts';
import { deleteMemoryGraph, deleteOrphans, writeMemoryGraphs } from './neo4j-graph-writes.ts';

export interface Neo4jGraphStoreOptions {
  /** Bolt URL, such as `bolt://127.0.0.1:7687` or `neo4j+s://xxxx.databases.neo4j.io`. */
  url: string;
  username: string;
  password: string;
  /** Database name; the server's default database when omitted. */
  database?: string;
  /** How long to wait for a connection (default 5 s). */
  connectTimeoutMs?: number;
  /** How long a unit of work keeps retrying transient failures (default 5 s). */
  maxRetryTimeMs?: number;
}

// Run at start-up; every one is idempotent. The uniqueness constraints make
// MERGE safe under concurrency and give the (userId, ...) lookups their index.
const SCHEMA = [
  'CREATE CONSTRAINT graph_entity_key IF NOT EXISTS FOR (e:Entity) REQUIRE (e.userId, e.key) IS UNIQUE',
  'CREATE CONSTRAINT graph_memory_id IF NOT EXISTS FOR (m:Memory) REQUIRE (m.userId, m.id) IS UNIQUE',
  'CREATE CONSTRAINT graph_owner_user IF NOT EXISTS FOR (o:GraphOwner) REQUIRE o.userId IS UNIQUE',
  'CREATE INDEX graph_entity_user IF NOT EXISTS FOR (e:Entity) ON (e.userId)',
];

// Memories reached from the query entities: directly (hops 0) or through a
// relation in either direction (hops 1). Each memory is ranked at its nearest
// distance, then by how many query entities reach it there.
const FIND_MEMORIES = `
  UNWIND $keys AS queryKey
  MATCH (q:Entity {userId: $userId, key: queryKey})
  CALL (q) {
    RETURN q AS e, 0 AS hops
    UNION
    MATCH (q)-[:RELATED]-(n:Entity {userId: $userId})
    WHERE $maxHops >= 1 AND (
      $maxMentions IS NULL OR (
        COUNT { (q)<-[:MENTIONS]-(:Memory) } <= $maxMentions
        AND COUNT { (n)<-[:MENTIONS]-(:Memory) } <= $maxMentions
      )
    )
    RETURN n AS e, 1 AS hops
  }
  MATCH (e)<-[:MENTIONS]-(m:Memory {userId: $userId})
  WITH m, collect({queryKey: queryKey, key: e.key, name: e.name, hops: hops}) AS hits,
    min(hops) AS nearest
  UNWIND hits AS hit
  WITH m, nearest, hit
  WHERE hit.hops = nearest
  WITH m, nearest, count(DISTINCT hit.queryKey) AS matched, min(hit.key) AS firstKey,
    collect(hit) AS top
  RETURN m.id AS memoryId, nearest AS hops, [h IN top WHERE h.key = firstKey][0].name AS entity
  ORDER BY hops, matched DESC, memoryId
  LIMIT $limit`;

/**
 * A graph store on Neo4j: `(:Memory)-[:MENTIONS]->(:Entity)` and
 * `(:Entity)-[:RELATED {type, memoryId}]->(:Entity)`, every node carrying its
 * `userId` and every query filtered by it. One driver per store, one session
 * per unit of work. Resolves once the server answered and the schema exists;
 * an unreachable server is `AppError('dependency_unavailable')`.
 */
export async function createNeo4jGraphStore(options: Neo4jGraphStoreOptions): Promise<GraphStore> {
  let driver: Driver;
  try {
    driver = neo4j.driver(options.url, neo4j.auth.basic(options.username, options.password), {
      disableLosslessIntegers: true,
      connectionTimeout: options.connectTimeoutMs ?? 5_000,
      connectionAcquisitionTimeout: (options.connectTimeoutMs ?? 5_000) * 2,
      maxTransactionRetryTime: options.maxRetryTimeMs ?? 5_000,
      userAgent: 'memory-engine',
    });
  } catch (cause) {
    throw new AppError('dependency_unavailable', `invalid Neo4j URL ${options.url}`, { cause });
  }
  const sessionConfig = options.database ? { database: options.database } : {};

  const withSession = async <T>(work: (session: Session) => Promise<T>): Promise<T> => {
    const session = driver.session(sessionConfig);
    try {
      return await work(session);
    } catch (error) {
      throw mapNeo4jError(error);
    } finally {
      await session.close();
    }
  };
  const write = <T>(work: (tx: ManagedTransaction) => Promise<T>) =>
    withSession((session) => session.executeWrite(work));
  const read = <T>(work: (tx: ManagedTransaction) => Promise<T>) =>
    withSession((session) => session.executeRead(work));

  try {
    await withSession(async (session) => {
      // Schema commands cannot share a transaction with each other.
      for (const statement of SCHEMA) await session.run(statement);
    });
  } catch (error) {
    await driver.close();
    throw error;
  }

  return {
    kind: 'neo4j',

    async upsertMemoryGraph(userId, memoryId, graph) {
      await write((tx) => writeMemoryGraphs(tx, userId, [{ memoryId, graph }]));
    },

    async upsertMemoryGraphs(userId, items) {
      if (items.length === 0) return;
      await write((tx) => writeMemoryGraphs(tx, userId, items));
    },

    async upsertGraphsAcross(items) {
      // One transaction for the batch, each user's graphs written as theirs.
      if (items.length === 0) return;
      const users = [...new Set(items.map((item) => item.userId))];
      await write(async (tx) => {
        for (const userId of users) {
          await writeMemoryGraphs(
            tx,
            userId,
            items.filter((item) => item.userId === userId),
          );
        }
      });
    },

    async deleteMemory(userId, memoryId) {
      await write((tx) => deleteMemoryGraph(tx, userId, memoryId));
    },

    async findMemories(userId, entityNames, options): Promise<GraphHit[]> {
      const limit = clampLimit(options.limit);
      const keys = [...new Set(entityNames.map(entityKey))].filter((k) => k !== '');
      if (keys.length === 0 || limit === 0) return [];
      const result = await read((tx) =>
        tx.run(FIND_MEMORIES, {
          userId,
          keys,
          maxHops: neo4j.int(options.maxHops ?? 0),
          limit: neo4j.int(limit),
          maxMentions: options.maxMentions === undefined ? null : neo4j.int(options.maxMentions),
        }),
      );
      return result.records.map((r) => ({
        memoryId: r.get('memoryId') as string,
        entity: r.get('entity') as string,
        hops: r.get('hops') as number,
      }));
    },

    async entitiesOf(userId, memoryId): Promise<GraphEntity[]> {
      const result = await read((tx) =>
        tx.run(
          `MATCH (:Memory {userId: $userId, id: $memoryId})-[:MENTIONS]->(e:Entity)
           RETURN e.name AS name, e.type AS type
           ORDER BY e.key`,
          { userId, memoryId },
        ),
      );
      return result.records.map((r) => ({
        name: r.get('name') as string,
        type: r.get('type') as string,
      }));
    },

    async entityNames(userId, options) {
      const limit = clampLimit(options.limit, 10_000);
      if (limit === 0) return [];
      // Most-mentioned first, so a small limit keeps the entities that matter most.
      const result = await read((tx) =>
        tx.run(
          `MATCH (e:Entity {userId: $userId})
           WITH e, COUNT { (e)<-[:MENTIONS]-(:Memory) } AS mentions
           WHERE mentions > 0
           RETURN e.name AS name
           ORDER BY mentions DESC, e.key
           LIMIT $limit`,
          { userId, limit: neo4j.int(limit) },
        ),
      );
      return result.records.map((r) => r.get('name') as string);
    },

    deleteOrphanEntities: (userId) => write((tx) => deleteOrphans(tx, userId)),

    async ping() {
      await withSession((session) => session.run('RETURN 1'));
    },

    async close() {
      await driver.close();
    },
  };
}

const unavailableCodes = new Set([
  neo4j.error.SERVICE_UNAVAILABLE,
  neo4j.error.SESSION_EXPIRED,
  'Neo.ClientError.Security.Unauthorized',
  'Neo.ClientError.Security.AuthenticationRateLimit',
  'Neo.ClientError.Database.DatabaseNotFound',
  'Neo.TransientError.General.DatabaseUnavailable',
]);

/** Turns "Neo4j is not there (or will not let us in)" into a 503-class AppError. */
export function mapNeo4jError(error: unknown): unknown {
  if (error instanceof AppError || !(error instanceof Error)) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && (unavailableCodes.has(code) || neo4j.isRetriableError(error))) {
    return new AppError('dependency_unavailable', `Neo4j is unavailable: ${error.message}`, {
      cause: error,
    });
  }
  return error;
}
