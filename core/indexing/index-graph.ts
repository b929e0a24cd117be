import { settleAll } from '../concurrency/limits.ts';
import { groupByUser, type IndexerDeps, type IndexTarget } from './indexing-types.ts';
import { goneAfterWrite } from './recheck-written.ts';

type Deps = Pick<IndexerDeps, 'store' | 'graph' | 'extractor'>;

/**
 * Replaces the memory's entities and relations in the graph; removes them
 * again when the memory was deleted while they were written.
 */
export async function indexGraph(
  { store, graph, extractor }: Deps,
  { userId, memoryId }: IndexTarget,
): Promise<{ entities: number }> {
  const memory = await store.getMemory(userId, memoryId);
  if (!memory) return { entities: 0 };
  const { graph: extracted } = await extractor.extract(memory.content);
  await graph.upsertMemoryGraph(userId, memoryId, extracted);
  if ((await goneAfterWrite(store, userId, [memoryId])).length > 0) {
    await graph.deleteMemory(userId, memoryId);
    return { entities: 0 };
  }
  return { entities: extracted.entities.length };
}

/**
 * {@link indexGraph} for many memories: extracts their graphs (at most
 * `concurrency` at once, extraction may wait on a model; `onExtracted`
 * after each) and writes each user's in one graph transaction.
 */
export async function indexGraphs(
  { store, graph, extractor }: Deps,
  targets: readonly IndexTarget[],
  options: { concurrency: number; onExtracted?: () => void },
): Promise<{ entities: number }> {
  let entities = 0;
  const byUser = groupByUser(
    targets,
    (t) => t.userId,
    (t) => t.memoryId,
  );
  for (const [userId, ids] of byUser) {
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
    const gone = new Set(
      await goneAfterWrite(
        store,
        userId,
        items.map((item) => item.memoryId),
      ),
    );
    for (const memoryId of gone) await graph.deleteMemory(userId, memoryId);
    entities += items
      .filter((item) => !gone.has(item.memoryId))
      .reduce((sum, item) => sum + item.graph.entities.length, 0);
  }
  return { entities };
}
