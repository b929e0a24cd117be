/** Something a memory mentions: a person, place, organisation, topic, ... */
export interface GraphEntity {
  /** Display name as written, such as `Maria Silva`. */
  name: string;
  /** Lower-case kind: `person`, `place`, `organization`, `topic`, `thing`, ... */
  type: string;
}

/** A typed link between two entities named in the same memory. */
export interface GraphRelation {
  from: string;
  to: string;
  /** Upper-snake verb such as `WORKS_AT`, `LIVES_IN`, `SISTER_OF`. */
  type: string;
}

export interface MemoryGraph {
  entities: GraphEntity[];
  relations: GraphRelation[];
}

export interface GraphHit {
  memoryId: string;
  /** The entity that led to the memory. */
  entity: string;
  /** 0 when the memory names the entity itself, 1 when it names a related entity. */
  hops: number;
}

/**
 * Port for the graph store (tables in the relational store, or Neo4j).
 * Entities are per user and matched by normalised name (case- and
 * space-insensitive); nothing crosses users. Writing a memory's graph
 * replaces what that memory contributed before, so re-indexing is idempotent.
 */
export interface GraphStore {
  /** `sql` or `neo4j`. */
  readonly kind: string;
  upsertMemoryGraph(userId: string, memoryId: string, graph: MemoryGraph): Promise<void>;
  /**
   * {@link upsertMemoryGraph} for several memories of one user in one
   * transaction, as if written one after another in `items` order. A memory
   * that no longer exists is skipped.
   */
  upsertMemoryGraphs(
    userId: string,
    items: readonly { memoryId: string; graph: MemoryGraph }[],
  ): Promise<void>;
  /**
   * {@link upsertMemoryGraphs} for memories of several users at once (one
   * transaction where the store can); each memory's graph is its user's.
   */
  upsertGraphsAcross(
    items: readonly { userId: string; memoryId: string; graph: MemoryGraph }[],
  ): Promise<void>;
  /** Removes the memory's links, and entities no memory mentions any more. */
  deleteMemory(userId: string, memoryId: string): Promise<void>;
  /**
   * Memories that mention the named entities (hops 0) or entities related to
   * them (hops 1, when `maxHops` is 1), nearest first.
   */
  findMemories(
    userId: string,
    entityNames: readonly string[],
    options: {
      limit: number;
      maxHops?: 0 | 1;
      /**
       * Relations are not followed from or to an entity more memories than
       * this mention: it tells no memory apart, and walking from it would
       * reach most of the graph. Its own memories (hops 0) still count.
       */
      maxMentions?: number;
    },
  ): Promise<GraphHit[]>;
  /** The entities a memory mentions. */
  entitiesOf(userId: string, memoryId: string): Promise<GraphEntity[]>;
  /** Entity names the user has, for matching entities in a query. */
  entityNames(userId: string, options: { limit: number }): Promise<string[]>;
  /**
   * Deletes the user's entities that no memory mentions any more (left
   * behind when memories went without the graph hearing of it); returns how
   * many it deleted.
   */
  deleteOrphanEntities(userId: string): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
