import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createIndexer } from '../../core/indexing/indexer.ts';
import type { Embedder } from '../../core/ports/embedder.ts';
import type { RelationalStore } from '../../core/ports/relational-store.ts';
import { singleSpace } from '../../core/ports/vector-space.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

/** The store, counting the reads of memories by reference (`getMemoriesOf`). */
function countingStore(inner: RelationalStore) {
  const counted = { reads: 0 };
  const store: RelationalStore = Object.create(inner) as RelationalStore;
  store.getMemoriesOf = (targets) => {
    counted.reads++;
    return inner.getMemoriesOf(targets);
  };
  return { store, counted };
}

/** The embedder, recording the texts of each call in the order given. */
function recordingEmbedder(inner: Embedder) {
  const calls: string[][] = [];
  const embedder: Embedder = {
    id: inner.id,
    dimension: inner.dimension,
    embed(texts, options) {
      calls.push([...texts]);
      return inner.embed(texts, options);
    },
  };
  return { embedder, calls };
}

/**
 * A batch pass of the indexer (what a shard run's activity does) over PGlite:
 * the memories are read once, written to the vector index and the graph from
 * that read, and read once more after both writes to find those deleted
 * meanwhile; the texts go to the embedder shortest first.
 */
describe('a batch pass reads its memories once before its writes and once after', () => {
  let engine: TestEngine;

  before(async () => {
    engine = await createTestEngine('pglite');
  });
  after(async () => {
    await engine.close();
  });

  const contents = (tag: string) => [
    `${tag}: Maria Silva moved to Lisbon in May and started a new job at Acme Corp`,
    `${tag}: Jonas runs`,
    `${tag}: Claire bought a bicycle in Paris last weekend`,
  ];

  async function saved(tag: string) {
    const user = await engine.store.createUser({ name: tag });
    const rows = await engine.store.insertMemories(
      user.id,
      contents(tag).map((content) => ({ content })),
    );
    return rows.map(({ memory }) => ({ userId: user.id, memoryId: memory.id }));
  }

  it("indexes two users' memories with two reads, vectors and graphs from the first", async () => {
    const targets = [...(await saved('first')), ...(await saved('second'))];
    const { store, counted } = countingStore(engine.store);
    const { embedder, calls } = recordingEmbedder(engine.embedder);
    const indexer = createIndexer({
      store,
      spaces: singleSpace(embedder, engine.vectors),
      graph: engine.graph,
      extractor: engine.extractor,
    });

    const outcome = await indexer.indexBatch(targets, { graphConcurrency: 2 });

    assert.deepEqual(outcome, { indexed: 6, current: 0, deleted: 0, failed: 0, stale: [] });
    // Before, the vectors and the graphs each read and re-read the memories: four reads.
    assert.equal(counted.reads, 2);
    assert.equal(calls.length, 1, 'one embedding call');
    const lengths = calls[0]!.map((text) => text.length);
    assert.deepEqual(
      lengths,
      [...lengths].sort((a, b) => a - b),
      'shortest first',
    );
    for (const { userId, memoryId } of targets) {
      assert.equal((await engine.store.getMemory(userId, memoryId))?.indexState, 'indexed');
      assert.equal((await engine.vectors.getVectors(userId, [memoryId])).size, 1);
    }
    const [maria] = targets;
    const names = (await engine.graph.entitiesOf(maria!.userId, maria!.memoryId)).map(
      (e) => e.name,
    );
    assert.ok(names.includes('Maria Silva'), JSON.stringify(names));
  });

  it('forgets a memory deleted between its writes and the read after them', async () => {
    const targets = await saved('third');
    const [doomed, ...kept] = targets;
    const { store } = countingStore(engine.store);
    const graph = Object.create(engine.graph) as typeof engine.graph;
    // The delete commits once the graphs are written, before the read that follows them.
    graph.upsertGraphsAcross = async (items) => {
      await engine.graph.upsertGraphsAcross(items);
      await engine.store.deleteMemory(doomed!.userId, doomed!.memoryId);
    };
    const indexer = createIndexer({
      store,
      spaces: singleSpace(engine.embedder, engine.vectors),
      graph,
      extractor: engine.extractor,
    });

    const outcome = await indexer.indexBatch(targets, { graphConcurrency: 2 });

    assert.equal(outcome.deleted, 1, JSON.stringify(outcome));
    assert.equal(outcome.indexed, kept.length, JSON.stringify(outcome));
    assert.equal((await engine.vectors.getVectors(doomed!.userId, [doomed!.memoryId])).size, 0);
    assert.deepEqual(await engine.graph.entitiesOf(doomed!.userId, doomed!.memoryId), []);
    for (const { userId, memoryId } of kept) {
      assert.equal((await engine.store.getMemory(userId, memoryId))?.indexState, 'indexed');
    }
  });
});
