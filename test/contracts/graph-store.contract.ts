import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { GraphHit, GraphStore, MemoryGraph } from '../../core/ports/graph-store.ts';
import { lateBound } from '../support/late-bound.ts';
import { defineContract } from './define-contract.ts';
import { crossUserGraphCases } from './graph-store-cross-user.cases.ts';

/** What a graph-store adapter's test file hands the contract. */
export interface GraphStoreFixture {
  store: GraphStore;
  /** A new user the store accepts (for the SQL adapter, a row in `users`). */
  createUser(): Promise<string>;
  /** A new memory of `userId` the store accepts (for the SQL adapter, a row in `memories`). */
  createMemory(userId: string): Promise<string>;
  /** Releases what the fixture opened besides the store. */
  close?(): Promise<void>;
}

const mariaAtAcme: MemoryGraph = {
  entities: [
    { name: 'Maria Silva', type: 'person' },
    { name: 'Acme', type: 'organization' },
  ],
  relations: [{ from: 'Maria Silva', to: 'Acme', type: 'WORKS_AT' }],
};
const acmeInPorto: MemoryGraph = {
  entities: [
    { name: 'Acme', type: 'organization' },
    { name: 'Porto', type: 'place' },
  ],
  relations: [],
};
const mariaLikesTea: MemoryGraph = {
  entities: [
    { name: 'Maria Silva', type: 'person' },
    { name: 'green tea', type: 'thing' },
  ],
  relations: [],
};

const only = (...names: string[]): MemoryGraph => ({
  entities: names.map((name) => ({ name, type: 'topic' })),
  relations: [],
});

/** Hits without the order among equally ranked memories, which the port leaves open. */
const byMemory = (hits: GraphHit[]) =>
  [...hits].sort((a, b) => a.hops - b.hops || a.memoryId.localeCompare(b.memoryId));

/**
 * The behaviour every graph-store adapter must show. Each adapter's test file
 * calls this with a factory for a ready store and a way to make users and
 * memories it accepts. Every test works in users of its own.
 */
export const graphStoreContract = defineContract(
  'graph store',
  async (fixture: GraphStoreFixture) => {
    await fixture.store.close();
    await fixture.close?.();
  },
  (fixture) => {
    const store = lateBound(() => fixture.store);
    const newUser = () => fixture.createUser();
    const newMemory = (userId: string, graph: MemoryGraph) =>
      fixture.createMemory(userId).then(async (memoryId) => {
        await store.upsertMemoryGraph(userId, memoryId, graph);
        return memoryId;
      });

    it('answers a ping', async () => {
      await store.ping();
    });

    crossUserGraphCases(store, newUser, (userId) => fixture.createMemory(userId));

    it('finds a memory by an entity name written in another case and spacing', async () => {
      const user = await newUser();
      const memory = await newMemory(user, mariaAtAcme);
      const hits = await store.findMemories(user, ['  maria   SILVA '], { limit: 10 });
      assert.deepEqual(hits, [{ memoryId: memory, entity: 'Maria Silva', hops: 0 }]);
    });

    it('finds nothing for a name no memory mentions, or for no names at all', async () => {
      const user = await newUser();
      await newMemory(user, mariaAtAcme);
      assert.deepEqual(await store.findMemories(user, ['Bob'], { limit: 10, maxHops: 1 }), []);
      assert.deepEqual(await store.findMemories(user, [], { limit: 10, maxHops: 1 }), []);
    });

    it('follows a relation one hop to a memory about the related entity, nearest first', async () => {
      const user = await newUser();
      const worksAt = await newMemory(user, mariaAtAcme);
      const office = await newMemory(user, acmeInPorto);

      const hits = await store.findMemories(user, ['Maria Silva'], { limit: 10, maxHops: 1 });
      assert.deepEqual(hits, [
        { memoryId: worksAt, entity: 'Maria Silva', hops: 0 },
        { memoryId: office, entity: 'Acme', hops: 1 },
      ]);
      const direct = await store.findMemories(user, ['Maria Silva'], { limit: 10 });
      assert.deepEqual(direct, [{ memoryId: worksAt, entity: 'Maria Silva', hops: 0 }]);
    });

    it('follows a relation against its direction too', async () => {
      const user = await newUser();
      const worksAt = await newMemory(user, mariaAtAcme);
      const office = await newMemory(user, acmeInPorto);
      const tea = await newMemory(user, mariaLikesTea);

      const hits = await store.findMemories(user, ['acme'], { limit: 10, maxHops: 1 });
      assert.deepEqual(byMemory(hits), [
        ...byMemory([
          { memoryId: worksAt, entity: 'Acme', hops: 0 },
          { memoryId: office, entity: 'Acme', hops: 0 },
        ]),
        { memoryId: tea, entity: 'Maria Silva', hops: 1 },
      ]);
      assert.deepEqual(
        hits.map((h) => h.hops),
        [0, 0, 1],
      );
    });

    it('ranks a memory that names more of the asked entities first', async () => {
      const user = await newUser();
      const one = await newMemory(user, only('Lisbon'));
      const both = await newMemory(user, only('Lisbon', 'Maria'));
      const hits = await store.findMemories(user, ['Lisbon', 'Maria'], { limit: 10 });
      assert.deepEqual(
        hits.map((h) => h.memoryId),
        [both, one],
      );
    });

    it('follows no relation from or to an entity mentioned by more than `maxMentions` memories', async () => {
      const user = await newUser();
      const worksAt = await newMemory(user, mariaAtAcme);
      const office = await newMemory(user, acmeInPorto);
      const tea = await newMemory(user, mariaLikesTea);
      // Acme is mentioned twice, Maria Silva twice: with a cap of 1 no hop is taken,
      // but each entity's own memories still come back.
      assert.deepEqual(
        byMemory(
          await store.findMemories(user, ['acme'], { limit: 10, maxHops: 1, maxMentions: 1 }),
        ),
        byMemory([
          { memoryId: worksAt, entity: 'Acme', hops: 0 },
          { memoryId: office, entity: 'Acme', hops: 0 },
        ]),
      );
      // With a cap of 2 the walk goes on as before.
      const walked = await store.findMemories(user, ['acme'], {
        limit: 10,
        maxHops: 1,
        maxMentions: 2,
      });
      assert.ok(walked.some((h) => h.memoryId === tea && h.hops === 1));
    });

    it('returns at most `limit` memories', async () => {
      const user = await newUser();
      for (let i = 0; i < 3; i++) await newMemory(user, only('Chess'));
      assert.equal((await store.findMemories(user, ['Chess'], { limit: 2 })).length, 2);
    });

    it('records both ends of a relation as entities the memory mentions', async () => {
      const user = await newUser();
      const memory = await newMemory(user, {
        entities: [{ name: 'Maria Silva', type: 'person' }],
        relations: [{ from: 'Maria Silva', to: 'Porto', type: 'LIVES_IN' }],
      });
      const hits = await store.findMemories(user, ['porto'], { limit: 10 });
      assert.deepEqual(hits, [{ memoryId: memory, entity: 'Porto', hops: 0 }]);
    });

    it('keeps one entity for spellings that differ only in case and spacing', async () => {
      const user = await newUser();
      const memory = await newMemory(user, {
        entities: [
          { name: 'Maria Silva', type: 'person' },
          { name: 'maria  silva', type: 'person' },
        ],
        relations: [],
      });
      await newMemory(user, only('MARIA SILVA'));
      assert.deepEqual(await store.entitiesOf(user, memory), [
        { name: 'MARIA SILVA', type: 'topic' },
      ]);
      assert.equal((await store.entityNames(user, { limit: 10 })).length, 1);
    });

    it('replaces what a memory contributed when its graph is written again', async () => {
      const user = await newUser();
      const memory = await newMemory(user, mariaAtAcme);
      await store.upsertMemoryGraph(user, memory, mariaAtAcme);
      await newMemory(user, acmeInPorto);

      const twice = await store.findMemories(user, ['Maria Silva'], { limit: 10 });
      assert.deepEqual(twice, [{ memoryId: memory, entity: 'Maria Silva', hops: 0 }]);
      assert.equal((await store.entitiesOf(user, memory)).length, 2);

      await store.upsertMemoryGraph(user, memory, {
        entities: [{ name: 'Lisbon', type: 'place' }],
        relations: [],
      });
      assert.deepEqual(await store.entitiesOf(user, memory), [{ name: 'Lisbon', type: 'place' }]);
      assert.deepEqual(
        await store.findMemories(user, ['Maria Silva'], { limit: 10, maxHops: 1 }),
        [],
      );
      // The old relation is gone with it: Acme no longer leads anywhere else.
      const acme = await store.findMemories(user, ['Acme'], { limit: 10, maxHops: 1 });
      assert.deepEqual(
        acme.map((h) => h.hops),
        [0],
      );
      assert.deepEqual((await store.entityNames(user, { limit: 10 })).sort(), [
        'Acme',
        'Lisbon',
        'Porto',
      ]);
    });

    it('writes several memories’ graphs at once as if one after another', async () => {
      const user = await newUser();
      const [worksAt, office, tea] = await Promise.all(
        [1, 2, 3].map(() => fixture.createMemory(user)),
      );
      await store.upsertMemoryGraph(user, tea!, only('Chess'));
      await store.upsertMemoryGraphs(user, [
        { memoryId: worksAt!, graph: mariaAtAcme },
        { memoryId: office!, graph: acmeInPorto },
        // Written again: replaces its earlier graph, and the later naming sets the type.
        {
          memoryId: tea!,
          graph: { ...mariaLikesTea, entities: [{ name: 'maria silva', type: 'friend' }] },
        },
      ]);
      const hits = await store.findMemories(user, ['Maria Silva'], { limit: 10, maxHops: 1 });
      assert.deepEqual(byMemory(hits), [
        ...byMemory([
          { memoryId: worksAt!, entity: 'maria silva', hops: 0 },
          { memoryId: tea!, entity: 'maria silva', hops: 0 },
        ]),
        { memoryId: office!, entity: 'Acme', hops: 1 },
      ]);
      assert.deepEqual(await store.entitiesOf(user, tea!), [
        { name: 'maria silva', type: 'friend' },
      ]);
      assert.deepEqual((await store.entityNames(user, { limit: 10 })).sort(), [
        'Acme',
        'Porto',
        'maria silva',
      ]);
      await store.upsertMemoryGraphs(user, []);
      // A memory given twice ends with the later graph.
      await store.upsertMemoryGraphs(user, [
        { memoryId: office!, graph: only('Chess') },
        { memoryId: office!, graph: acmeInPorto },
      ]);
      assert.deepEqual((await store.entitiesOf(user, office!)).map((e) => e.name).sort(), [
        'Acme',
        'Porto',
      ]);
    });

    it('deletes a memory with its links and the entities no other memory mentions', async () => {
      const user = await newUser();
      const worksAt = await newMemory(user, mariaAtAcme);
      const office = await newMemory(user, acmeInPorto);

      await store.deleteMemory(user, worksAt);
      assert.deepEqual(await store.entitiesOf(user, worksAt), []);
      assert.deepEqual(
        await store.findMemories(user, ['Maria Silva'], { limit: 10, maxHops: 1 }),
        [],
      );
      assert.deepEqual(await store.findMemories(user, ['Acme'], { limit: 10, maxHops: 1 }), [
        { memoryId: office, entity: 'Acme', hops: 0 },
      ]);
      assert.deepEqual((await store.entityNames(user, { limit: 10 })).sort(), ['Acme', 'Porto']);

      await store.deleteMemory(user, worksAt);
      await store.deleteMemory(user, office);
      assert.deepEqual(await store.entityNames(user, { limit: 10 }), []);
    });

    it("never shows one user's graph to another, nor lets them change it", async () => {
      const alice = await newUser();
      const bob = await newUser();
      const memory = await newMemory(alice, mariaAtAcme);
      await newMemory(bob, {
        entities: [{ name: 'Maria Silva', type: 'place' }],
        relations: [],
      });
      const bobOffice = await newMemory(bob, acmeInPorto);

      const bobs = await store.findMemories(bob, ['Maria Silva'], { limit: 10, maxHops: 1 });
      assert.ok(bobs.every((h) => h.memoryId !== memory));
      assert.ok(!bobs.some((h) => h.memoryId === bobOffice), 'no hop through alice’s relation');
      assert.deepEqual(await store.entitiesOf(bob, memory), []);

      await store.deleteMemory(bob, memory);
      assert.deepEqual(await store.entitiesOf(alice, memory), [
        { name: 'Acme', type: 'organization' },
        { name: 'Maria Silva', type: 'person' },
      ]);
      const carol = await newUser();
      assert.deepEqual(await store.entityNames(carol, { limit: 10 }), []);
      assert.deepEqual(await store.findMemories(carol, ['Maria Silva'], { limit: 10 }), []);
    });

    it('loses nothing when one user’s memories are written and deleted concurrently', async () => {
      const user = await newUser();
      const memories = await Promise.all(
        Array.from({ length: 6 }, () => fixture.createMemory(user)),
      );
      await Promise.all(
        memories.map((memory) => store.upsertMemoryGraph(user, memory, mariaAtAcme)),
      );
      // Half are deleted while the other half are rewritten with the same entities.
      await Promise.all(
        memories.map((memory, i) =>
          i % 2 === 0
            ? store.deleteMemory(user, memory)
            : store.upsertMemoryGraph(user, memory, mariaAtAcme),
        ),
      );
      const hits = await store.findMemories(user, ['Maria Silva'], { limit: 10 });
      assert.deepEqual(
        hits.map((h) => h.memoryId).sort(),
        memories.filter((_, i) => i % 2 === 1).sort(),
      );
      assert.deepEqual((await store.entityNames(user, { limit: 10 })).sort(), [
        'Acme',
        'Maria Silva',
      ]);
    });

    it('lists the entities of a memory with the names and types it gave', async () => {
      const user = await newUser();
      const memory = await newMemory(user, mariaAtAcme);
      assert.deepEqual(await store.entitiesOf(user, memory), [
        { name: 'Acme', type: 'organization' },
        { name: 'Maria Silva', type: 'person' },
      ]);
    });

    it('lists entity names, the most mentioned first, up to the limit', async () => {
      const user = await newUser();
      await newMemory(user, only('Tennis', 'Chess'));
      await newMemory(user, only('Chess'));
      assert.deepEqual(await store.entityNames(user, { limit: 1 }), ['Chess']);
      assert.deepEqual(await store.entityNames(user, { limit: 10 }), ['Chess', 'Tennis']);
    });

    it('deletes no entity a memory still mentions when asked to clear orphans', async () => {
      const user = await newUser();
      const other = await newUser();
      const gone = await newMemory(user, mariaAtAcme);
      await newMemory(user, acmeInPorto);
      await newMemory(other, mariaLikesTea);
      await store.deleteMemory(user, gone);
      assert.equal(await store.deleteOrphanEntities(user), 0);
      assert.deepEqual((await store.entityNames(user, { limit: 10 })).sort(), ['Acme', 'Porto']);
      assert.deepEqual((await store.entityNames(other, { limit: 10 })).sort(), [
        'Maria Silva',
        'green tea',
      ]);
      assert.equal(await store.deleteOrphanEntities(await newUser()), 0);
    });
  },
);
