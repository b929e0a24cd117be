import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import type { GraphStore } from '../../core/ports/graph-store.ts';
import type { RelationalStore } from '../../core/ports/relational-store.ts';
import { createPgDriver } from '../../infra/db/pg-driver.ts';
import { createPgliteDriver } from '../../infra/db/pglite-driver.ts';
import type { SqlDriver } from '../../infra/db/sql-driver.ts';
import { createSqlRelationalStore } from '../../infra/db/sql-relational-store.ts';
import { createSqlGraphStore } from '../../infra/graph/sql-graph-store.ts';
import { graphStoreContract, type GraphStoreFixture } from '../contracts/graph-store.contract.ts';
import { requireTestEnv } from '../support/test-env.ts';

/** The graph store on the same driver as the relational store, as the app wires them. */
async function sqlFixture(
  driver: SqlDriver,
): Promise<GraphStoreFixture & { rel: RelationalStore; close(): Promise<void> }> {
  const rel = await createSqlRelationalStore(driver);
  const store = await createSqlGraphStore(driver);
  return {
    rel,
    store,
    createUser: async () => (await rel.createUser({})).id,
    createMemory: async (userId) =>
      (await rel.insertMemory(userId, { content: `memory ${randomUUID()}` })).memory.id,
    close: () => rel.close(),
  };
}

const pgliteFixture = async () => sqlFixture(await createPgliteDriver('memory://'));
// Read lazily, so the PGlite half still runs (and this half fails loudly) without the variable.
const postgresFixture = async () =>
  sqlFixture(
    await createPgDriver({
      url: requireTestEnv('TEST_DATABASE_URL'),
      poolSize: 5,
      statementTimeoutMs: 5_000,
      connectTimeoutMs: 3_000,
    }),
  );

graphStoreContract('SQL tables on PGlite', pgliteFixture);
graphStoreContract('SQL tables on PostgreSQL', postgresFixture);

for (const [name, createFixture] of [
  ['PGlite', pgliteFixture],
  ['PostgreSQL', postgresFixture],
] as const) {
  describe(`SQL graph store on ${name}`, () => {
    let fixture: Awaited<ReturnType<typeof sqlFixture>>;
    let store: GraphStore;
    before(async () => {
      fixture = await createFixture();
      store = fixture.store;
    });
    after(async () => {
      await fixture?.close();
    });

    const graph = {
      entities: [{ name: 'Maria', type: 'person' }],
      relations: [{ from: 'Maria', to: 'Acme', type: 'works at' }],
    };

    it('refuses the graph of a memory that does not exist, or is not the user’s', async () => {
      const alice = await fixture.createUser();
      const bob = await fixture.createUser();
      const alicesMemory = await fixture.createMemory(alice);
      const isNotFound = (error: unknown) =>
        error instanceof AppError && error.code === 'not_found';
      await assert.rejects(store.upsertMemoryGraph(alice, randomUUID(), graph), isNotFound);
      await assert.rejects(store.upsertMemoryGraph(bob, alicesMemory, graph), isNotFound);
      await assert.rejects(store.upsertMemoryGraph(bob, 'not-a-uuid', graph), isNotFound);
      assert.deepEqual(await store.entityNames(bob, { limit: 10 }), []);
    });

    it('drops a memory’s graph when the memory itself is deleted', async () => {
      const user = await fixture.createUser();
      const memory = await fixture.createMemory(user);
      await store.upsertMemoryGraph(user, memory, graph);
      assert.equal(await fixture.rel.deleteMemory(user, memory), true);
      assert.deepEqual(await store.findMemories(user, ['Maria'], { limit: 10, maxHops: 1 }), []);
      // Entities left without a memory go at the graph store's next delete for the user.
      await store.deleteMemory(user, memory);
      assert.deepEqual(await store.entityNames(user, { limit: 10 }), []);
    });

    it('answers malformed ids with nothing rather than an error', async () => {
      assert.deepEqual(await store.findMemories('nope', ['Maria'], { limit: 10 }), []);
      assert.deepEqual(await store.entitiesOf('nope', 'nope'), []);
      assert.deepEqual(await store.entityNames('nope', { limit: 10 }), []);
      await store.deleteMemory('nope', 'nope');
    });
  });
}
