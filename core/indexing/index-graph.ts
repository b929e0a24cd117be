import { settleAll } from '../concurrency/limits.ts';
import { EXTRACT_BATCH_MAX } from '../extraction/entity-extractor.ts';
import type { MemoryGraph } from '../ports/graph-store.ts';
import type { Memory } from '../ports/relational-store.ts';
import { groupByUser, type IndexerDeps, type IndexTarget } from './indexing-types.ts';
import { goneAfterWrite, goneAfterWriteOf } from './recheck-written.ts';

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
 * {@link indexGraph} for many memories, of one user or of several: reads
 * them, writes their graphs ({@link writeGraphs}), then removes the graphs of
 * those deleted meanwhile.
 */
export async function indexGraphs(
  deps: Deps,
  targets: readonly IndexTarget[],
  options: { concurrency: number; onExtracted?: () => void },
): Promise<{ entities: number }> {
  const { store, graph } = deps;
  const byUser = groupByUser(
    targets,
    (t) => t.userId,
    (t) => t.memoryId,
  );
  const memories = await store.getMemoriesOf(
    [...byUser].flatMap(([userId, ids]) =>
      [...new Set(ids)].map((memoryId) => ({ userId, memoryId })),
    ),
  );
  const extracted = await writeGraphs(deps, memories, options);
  // One read for those deleted meanwhile.
  const gone = await goneAfterWriteOf(store, extracted);
  for (const { userId, memoryId } of gone) await graph.deleteMemory(userId, memoryId);
  const goneIds = new Set(gone.map((item) => `${item.userId}/${item.memoryId}`));
  const entities = extracted
    .filter((item) => !goneIds.has(`${item.userId}/${item.memoryId}`))
    .reduce((sum, item) => sum + item.graph.entities.length, 0);
  return { entities };
}

/**
 * Replaces the graphs of `memories` (as read, of one user or of several):
 * extracts them together, in groups of up to 16 memories of one user (one
 * model call each), at most `concurrency` groups at once across users
 * (extraction may wait on a model, and a batch of 256 users' single memories
 * must not wait for them one after another; `onExtracted` after each group),
 * then writes all the graphs in one graph transaction. Returns what it wrote;
 * the caller must then read which memories are gone ({@link goneAfterWriteOf})
 * and delete their graphs.
 */
export async function writeGraphs(
  { graph, extractor }: Pick<Deps, 'graph' | 'extractor'>,
  memories: readonly Memory[],
  options: { concurrency: number; onExtracted?: () => void },
): Promise<{ userId: string; memoryId: string; graph: MemoryGraph }[]> {
  // Never two users' memories in one prompt: one user's text must not be able to steer
  // what the model extracts from another's.
  const groups: Memory[][] = [];
  for (const own of groupByUser(
    memories,
    (m) => m.userId,
    (m) => m,
  ).values()) {
    for (let i = 0; i < own.length; i += EXTRACT_BATCH_MAX) {
      groups.push(own.slice(i, i + EXTRACT_BATCH_MAX));
    }
  }
  const settled = await settleAll(
    groups.map((group) => async () => {
      const { graphs } = await extractor.extractMany(group.map((m) => m.content));
      options.onExtracted?.();
      return group.map((m, i) => ({ userId: m.userId, memoryId: m.id, graph: graphs[i]! }));
    }),
    options.concurrency,
  );
  const failed = settled.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  const extracted = settled.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  // All users' graphs in one transaction.
  await graph.upsertGraphsAcross(extracted);
  return extracted;
}
