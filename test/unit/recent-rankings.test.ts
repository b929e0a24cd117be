import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TieredCache } from '../../core/cache/tiered-cache.ts';
import { planStrategies } from '../../core/context/strategies.ts';
import { FUSION_WEIGHTS, fuseRankings, ranked } from '../../core/retrieval/fusion.ts';
import { createEngineRetrieval } from '../../core/engine/engine-retrieval.ts';
import type { EnginePorts } from '../../core/engine/engine-types.ts';
import type { ContextPlan } from '../../core/planning/context-plan.ts';
import type { RetrievalFilter } from '../../core/ports/relational-store.ts';
import { memoryFixture } from '../support/memory-fixture.ts';

/** A store that answers recent memories from a list and counts the reads. */
function countingStore(ids: string[]) {
  const reads: { userId: string; limit: number; filter?: RetrievalFilter }[] = [];
  const store = {
    async recentMemories(userId: string, limit: number, filter?: RetrievalFilter) {
      reads.push({ userId, limit, ...(filter ? { filter } : {}) });
      return ids.slice(0, limit).map((id) => memoryFixture(id, userId));
    },
  };
  return { reads, store };
}

/** A classifier plan with no queries: only the strategies that need none run. */
const plan: ContextPlan = {
  strategy: 'relevant_context',
  queries: [],
  includeNarrative: false,
  saveWorthy: false,
  source: 'classifier',
};

function retrievalOver(store: object) {
  const ports = { store, graph: {}, spaces: { serving: () => null } } as unknown as EnginePorts;
  const settings = { vectorBatching: { enabled: false, windowMs: 0, maxBatch: 1 } };
  return createEngineRetrieval(ports, settings, {} as TieredCache<number[]>);
}

describe('recent-memory rankings on the query path', () => {
  it('reads a user’s recent memories once per data version, limit and filter', async () => {
    const { reads, store } = countingStore(['m3', 'm2', 'm1']);
    const { deps } = retrievalOver(store);
    assert.deepEqual(await deps.recentIds('u1', 2, undefined, 7), ['m3', 'm2']);
    assert.deepEqual(await deps.recentIds('u1', 2, undefined, 7), ['m3', 'm2']);
    assert.equal(reads.length, 1, 'the same version is answered from memory');
    await deps.recentIds('u1', 2, undefined, 8);
    await deps.recentIds('u1', 3, undefined, 8);
    await deps.recentIds('u2', 2, undefined, 8);
    const tagged: RetrievalFilter = { state: 'active', tagsAny: ['work'] };
    await deps.recentIds('u1', 2, tagged, 8);
    assert.equal(reads.length, 5, 'a new version, limit, user or filter reads again');
    assert.deepEqual(reads.at(-1), { userId: 'u1', limit: 2, filter: tagged });
  });

  it('is what the recent strategy ranks by when a data version is known', async () => {
    const { reads, store } = countingStore(['m2', 'm1']);
    const deps = {
      ...retrievalOver(store).deps,
      recentIds: async () => ['cached'],
    };
    const recent = (version?: number) =>
      planStrategies(deps as never, 'u1', plan, 5, version).find((s) => s.name === 'recent')!;
    assert.deepEqual((await recent(3).run()).lists[0]!.items[0]!.id, 'cached');
    assert.equal(reads.length, 0);
    assert.deepEqual((await recent(undefined).run()).lists[0]!.items[0]!.id, 'm2');
    assert.equal(reads.length, 1, 'without a version the store is read');
  });

  it('leaves a context of eight to what the searches found, the latest memories only sharing in it', async () => {
    const { store } = countingStore(['latest', 'm2']);
    const recent = planStrategies({ ...retrievalOver(store).deps } as never, 'u1', plan, 8);
    const { lists } = await recent.find((s) => s.name === 'recent')!.run();
    const found = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'm8', 'm9'];
    const searched = { source: 'vector', weight: FUSION_WEIGHTS.vector, items: ranked(found) };
    const context = fuseRankings([searched, ...lists]).slice(0, 8);
    assert.deepEqual(context.map((hit) => hit.id), found.slice(0, 8), 'the latest memory, found by no search, stays out'); // prettier-ignore
    assert.deepEqual(context[1]!.sources, ['recent', 'vector'], 'a found one that is recent says so'); // prettier-ignore
  });
});
