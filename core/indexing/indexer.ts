import type { EntityExtractor } from '../extraction/entity-extractor.ts';
import type { Embedder } from '../ports/embedder.ts';
import type { GraphStore } from '../ports/graph-store.ts';
import type { RelationalStore } from '../ports/relational-store.ts';
import type { VectorIndex } from '../ports/vector-index.ts';

export interface IndexTarget {
  userId: string;
  memoryId: string;
}

/** What one pass found: the memory is gone, already indexed, or needs `revision` indexed. */
export type IndexPlan =
  { kind: 'deleted' } | { kind: 'current'; revision: number } | { kind: 'index'; revision: number };

export interface IndexerDeps {
  store: RelationalStore;
  vectors: VectorIndex;
  graph: GraphStore;
  embedder: Embedder;
  extractor: EntityExtractor;
}

/**
 * The steps of indexing one memory, each idempotent so a retried or
 * re-executed step after a crash changes nothing twice. The workflow runs
 * them in order and loops while the memory keeps changing.
 */
export function createIndexer({ store, vectors, graph, embedder, extractor }: IndexerDeps) {
  return {
    /** Embeds the memory's current content and upserts its vector. */
    async indexVector({ userId, memoryId }: IndexTarget): Promise<IndexPlan> {
      const memory = await store.getMemory(userId, memoryId);
      if (!memory) return { kind: 'deleted' };
      if (memory.indexState === 'indexed') return { kind: 'current', revision: memory.revision };
      const [vector] = await embedder.embed([memory.content]);
      await vectors.upsert([{ id: memory.id, userId, vector: vector!, tags: memory.tags }]);
      return { kind: 'index', revision: memory.revision };
    },

    /** Replaces the memory's entities and relations in the graph. */
    async indexGraph({ userId, memoryId }: IndexTarget): Promise<{ entities: number }> {
      const memory = await store.getMemory(userId, memoryId);
      if (!memory) return { entities: 0 };
      const { graph: extracted } = await extractor.extract(memory.content);
      await graph.upsertMemoryGraph(userId, memoryId, extracted);
      return { entities: extracted.entities.length };
    },

    /** Records the revision as indexed; `stale` when the memory changed meanwhile. */
    async markIndexed({ userId, memoryId }: IndexTarget, revision: number) {
      const recorded = await store.markIndexed(userId, memoryId, revision);
      if (recorded) return { stale: false };
      const memory = await store.getMemory(userId, memoryId);
      return { stale: memory !== null && memory.revision !== revision };
    },

    /** Removes a deleted memory from the vector index and the graph, then its tombstone. */
    async forget({ userId, memoryId }: IndexTarget): Promise<void> {
      if (await store.getMemory(userId, memoryId)) return;
      await vectors.delete(userId, [memoryId]);
      await graph.deleteMemory(userId, memoryId);
      await store.clearTombstone(memoryId);
    },
  };
}

export type Indexer = ReturnType<typeof createIndexer>;
