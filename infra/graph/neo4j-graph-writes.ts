import type { ManagedTransaction } from 'neo4j-driver';
import type { MemoryGraph } from '../../core/ports/graph-store.ts';
import { prepareMemoryGraph } from './memory-graph.ts';

// The write transactions of the Neo4j graph store: each takes the user's lock first.

// Writing a property of the user's owner node takes its write lock until the
// transaction ends, so one user's graph writes run one at a time and removing
// an entity no memory mentions cannot race a write that mentions it again.
const LOCK_USER = `
  MERGE (o:GraphOwner {userId: $userId})
  SET o.writes = coalesce(o.writes, 0) + 1`;

// Relations of a memory join entities it mentions, so they are found from them.
const REMOVE_CONTRIBUTION = `
  MATCH (m:Memory {userId: $userId, id: $memoryId})
  OPTIONAL MATCH (m)-[:MENTIONS]->(:Entity)-[r:RELATED {memoryId: $memoryId}]->(:Entity)
  DELETE r
  WITH DISTINCT m
  OPTIONAL MATCH (m)-[mention:MENTIONS]->(e:Entity)
  DELETE mention
  WITH m, collect(e.key) AS keys
  DETACH DELETE m
  RETURN keys`;

const REMOVE_ORPHANS = `
  UNWIND $keys AS key
  MATCH (e:Entity {userId: $userId, key: key})
  WHERE NOT EXISTS { (e)<-[:MENTIONS]-(:Memory) }
  DETACH DELETE e`;

// A memory that names an entity sets its display name and type; one that only
// relates to it keeps what earlier memories said.
const WRITE_MENTIONS = `
  MERGE (m:Memory {userId: $userId, id: $memoryId})
  WITH m
  UNWIND $entities AS entity
  MERGE (e:Entity {userId: $userId, key: entity.key})
  ON CREATE SET e.name = entity.name, e.type = entity.type
  ON MATCH SET
    e.name = CASE WHEN entity.explicit THEN entity.name ELSE e.name END,
    e.type = CASE WHEN entity.explicit THEN entity.type ELSE e.type END
  MERGE (m)-[:MENTIONS]->(e)`;

const WRITE_RELATIONS = `
  UNWIND $relations AS relation
  MATCH (a:Entity {userId: $userId, key: relation.fromKey})
  MATCH (b:Entity {userId: $userId, key: relation.toKey})
  MERGE (a)-[:RELATED {type: relation.type, memoryId: $memoryId}]->(b)`;

/** Takes the user's graph write lock until the transaction ends. */
async function lockUserGraph(tx: ManagedTransaction, userId: string): Promise<void> {
  await tx.run(LOCK_USER, { userId });
}

/** Removes a memory's node, mentions and relations; returns the keys it mentioned. */
async function removeContribution(
  tx: ManagedTransaction,
  userId: string,
  memoryId: string,
): Promise<string[]> {
  const result = await tx.run(REMOVE_CONTRIBUTION, { userId, memoryId });
  return (result.records[0]?.get('keys') as string[] | undefined) ?? [];
}

/** Removes the entities among `keys` that no memory mentions any more. */
async function removeOrphans(
  tx: ManagedTransaction,
  userId: string,
  keys: readonly string[],
): Promise<void> {
  if (keys.length > 0) await tx.run(REMOVE_ORPHANS, { userId, keys });
}

/** Writes a memory's graph in place of what it contributed before (the user is locked). */
async function replaceContribution(
  tx: ManagedTransaction,
  userId: string,
  memoryId: string,
  graph: MemoryGraph,
): Promise<void> {
  const { entities, relations } = prepareMemoryGraph(graph);
  const previous = await removeContribution(tx, userId, memoryId);
  if (entities.length > 0) {
    await tx.run(WRITE_MENTIONS, { userId, memoryId, entities });
    if (relations.length > 0) {
      await tx.run(WRITE_RELATIONS, { userId, memoryId, relations });
    }
  }
  await removeOrphans(tx, userId, previous);
}

/** Replaces the graphs of `items`, memories of one user. */
export async function writeMemoryGraphs(
  tx: ManagedTransaction,
  userId: string,
  items: readonly { memoryId: string; graph: MemoryGraph }[],
): Promise<void> {
  await lockUserGraph(tx, userId);
  for (const { memoryId, graph } of items) {
    await replaceContribution(tx, userId, memoryId, graph);
  }
}

/** Removes a memory's graph and the entities only it mentioned. */
export async function deleteMemoryGraph(
  tx: ManagedTransaction,
  userId: string,
  memoryId: string,
): Promise<void> {
  await lockUserGraph(tx, userId);
  await removeOrphans(tx, userId, await removeContribution(tx, userId, memoryId));
}

/** Removes every entity of the user that no memory mentions; returns how many. */
export async function deleteOrphans(tx: ManagedTransaction, userId: string): Promise<number> {
  await lockUserGraph(tx, userId);
  const result = await tx.run(
    `MATCH (e:Entity {userId: $userId})
     WHERE NOT EXISTS { (e)<-[:MENTIONS]-(:Memory) }
     DETACH DELETE e
     RETURN count(*) AS deleted`,
    { userId },
  );
  return (result.records[0]?.get('deleted') as number | undefined) ?? 0;
}
