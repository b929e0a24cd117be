import { settleAll } from '../concurrency/limits.ts';
import type { EntityExtractor } from '../extraction/entity-extractor.ts';
import type { GraphStore } from '../ports/graph-store.ts';
import type { Memory, RelationalStore } from '../ports/relational-store.ts';
import type { VectorSpaces } from '../ports/vector-space.ts';

export interface IndexTarget {
  userId: string;
  memoryId: string;
}

/** What one pass found: the memory is gone, already indexed, or needs `revision` indexed. */
export type IndexPlan =
  { kind: 'deleted' } | { kind: 'current'; revision: number } | { kind: 'index'; revision: number };

export interface IndexerDeps {
  store: RelationalStore;
  spaces: VectorSpaces;
  graph: GraphStore;
  extractor: EntityExtractor;
}

/**
 * The steps of indexing one memory, each idempotent so a retried or
 * re-executed step after a crash changes nothing twice. The workflow runs
 * them in order and loops while the memory keeps changing.
 */
export function createIndexer({ store, spaces, graph, extractor }: IndexerDeps) {
  return {
    /**
     * Embeds the memory's current content into every kept space and upserts its
     * vectors. An indexed memory is left alone unless `force` (its vectors may
     * have been overwritten by a slower, older pass).
     */
    async indexVector({ userId, memoryId }: IndexTarget, force = false): Promise<IndexPlan> {
      const memory = await store.getMemory(userId, memoryId);
      if (!memory) return { kind: 'deleted' };
      if (memory.indexState === 'indexed' && !force) {
        return { kind: 'current', revision: memory.revision };
      }
      for (const space of spaces.writing()) {
        const [vector] = await space.embedder.embed([memory.content]);
        await space.index.upsert([{ id: memory.id, userId, vector: vector!, tags: memory.tags }]);
      }
      return { kind: 'index', revision: memory.revision };
    },

    /**
     * {@link indexVector} for many memories at once: one embedding call and one
     * upsert per space for all that need it. Plans come back in target order.
     */
    async indexVectors(targets: readonly IndexTarget[]): Promise<IndexPlan[]> {
      const found = new Map<string, Memory>();
      for (const [userId, ids] of groupByUser(targets)) {
        for (const m of await store.getMemories(userId, ids)) found.set(m.id, m);
      }
      const due = [...new Set(targets.map((t) => t.memoryId))]
        .map((id) => found.get(id))
        .filter((m): m is Memory => m !== undefined && m.indexState !== 'indexed');
      for (const space of spaces.writing()) {
        if (due.length === 0) break;
        const vectors = await space.embedder.embed(due.map((m) => m.content));
        await space.index.upsert(
          due.map((m, i) => ({ id: m.id, userId: m.userId, vector: vectors[i]!, tags: m.tags })),
        );
      }
      return targets.map(({ memoryId }): IndexPlan => {
        const memory = found.get(memoryId);
        if (!memory) return { kind: 'deleted' };
        return memory.indexState === 'indexed'
          ? { kind: 'current', revision: memory.revision }
          : { kind: 'index', revision: memory.revision };
      });
    },

    /** Replaces the memory's entities and relations in the graph. */
    async indexGraph({ userId, memoryId }: IndexTarget): Promise<{ entities: number }> {
      const memory = await store.getMemory(userId, memoryId);
      if (!memory) return { entities: 0 };
      const { graph: extracted } = await extractor.extract(memory.content);
      await graph.upsertMemoryGraph(userId, memoryId, extracted);
      return { entities: extracted.entities.length };
    },

    /**
     * {@link indexGraph} for many memories: extracts their graphs (at most
     * `concurrency` at once, extraction may wait on a model; `onExtracted`
     * after each) and writes each user's in one graph transaction.
     */
    async indexGraphs(
      targets: readonly IndexTarget[],
      options: { concurrency: number; onExtracted?: () => void },
    ): Promise<{ entities: number }> {
      let entities = 0;
      for (const [userId, ids] of groupByUser(targets)) {
        const memories = await store.getMemories(userId, [...new Set(ids)]);
        const settled = await settleAll(
          memories.map((memory) => async () => {
            const { graph: extracted } = await extractor.extract(memory.content);
            options.onExtracted?.();
            return { memoryId: memory.id, graph: extracted };
          }),
          options.concurrency,
        );
        const failed = settled.find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
        const items = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
        await graph.upsertMemoryGraphs(userId, items);
        entities += items.reduce((sum, item) => sum + item.graph.entities.length, 0);
      }
      return { entities };
    },

    /** Records the revision as indexed; `stale` when the memory changed meanwhile. */
    async markIndexed({ userId, memoryId }: IndexTarget, revision: number) {
      const recorded = await store.markIndexed(userId, memoryId, revision);
      if (recorded) return { stale: false };
      const memory = await store.getMemory(userId, memoryId);
      return { stale: memory !== null && memory.revision !== revision };
    },

    /**
     * {@link markIndexed} for many memories, one transaction per user; returns
     * those that changed meanwhile.
     */
    async markIndexedMany(
      items: readonly { target: IndexTarget; revision: number }[],
    ): Promise<{ stale: IndexTarget[] }> {
      const stale: IndexTarget[] = [];
      const byUser = new Map<string, { memoryId: string; revision: number }[]>();
      for (const { target, revision } of items) {
        byUser.set(target.userId, [
          ...(byUser.get(target.userId) ?? []),
          { memoryId: target.memoryId, revision },
        ]);
      }
      for (const [userId, marks] of byUser) {
        const recorded = new Set(await store.markIndexedMany(userId, marks));
        const missed = marks.filter((m) => !recorded.has(m.memoryId));
        if (missed.length === 0) continue;
        const current = new Map(
          (
            await store.getMemories(
              userId,
              missed.map((m) => m.memoryId),
            )
          ).map((m) => [m.id, m]),
        );
        for (const { memoryId, revision } of missed) {
          const memory = current.get(memoryId);
          if (memory && memory.revision !== revision) stale.push({ userId, memoryId });
        }
      }
      return { stale };
    },

    /** Removes a deleted memory from the vector index and the graph, then its tombstone. */
    async forget({ userId, memoryId }: IndexTarget): Promise<void> {
      if (await store.getMemory(userId, memoryId)) return;
      for (const index of spaces.indexes()) await index.delete(userId, [memoryId]);
      await graph.deleteMemory(userId, memoryId);
      await store.clearTombstone(memoryId);
    },
  };
}

export type Indexer = ReturnType<typeof createIndexer>;

function groupByUser(targets: readonly IndexTarget[]): Map<string, string[]> {
  const byUser = new Map<string, string[]>();
  for (const t of targets) byUser.set(t.userId, [...(byUser.get(t.userId) ?? []), t.memoryId]);
  return byUser;
}
