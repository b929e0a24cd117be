import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createPgliteDriver } from '../../infra/db/pglite-driver.ts';
import type { SqlDriver } from '../../infra/db/sql-driver.ts';
import { createSqlRelationalStore } from '../../infra/db/sql-relational-store.ts';
import { createHashingEmbedder } from '../../infra/local/hashing-embedder.ts';
import { createPgvectorIndex, dropPgvectorIndex } from '../../infra/vector/pgvector-index.ts';
import {
  openVectorSpaces,
  spaceLocation,
  type ManagedVectorSpaces,
} from '../../infra/vector/vector-spaces.ts';
import type { RelationalStore } from '../../core/ports/relational-store.ts';
import type { RunningWorker } from '../../workers/worker.ts';
import { indexReconcilerWorkflow } from '../../workflows/index.ts';
import { startTestApi, type TestApi } from '../support/test-api.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { startTestWorker } from '../support/test-worker.ts';

const OLD = createHashingEmbedder({ dimension: 32 });
const NEW = createHashingEmbedder({ dimension: 48 });

/**
 * A space retired by a switch of embedder is dropped (its pgvector table
 * removed, its registry row marked) once its grace period has passed, by
 * the index reconciler on the real dev server; going back to it rebuilds it.
 */
describe('retired embedding spaces', () => {
  let dir: TempDir;
  let driver: SqlDriver;
  let store: RelationalStore;
  const opened: ManagedVectorSpaces[] = [];

  const open = async (target: typeof OLD) => {
    const spaces = await openVectorSpaces({
      store,
      target,
      openIndex: (location, dimension) =>
        createPgvectorIndex({ driver, dimension, table: location }),
      locationFor: (id) => spaceLocation('vectors', id),
      dropIndex: (location) => dropPgvectorIndex(driver, location),
      refreshMs: 0,
    });
    opened.push(spaces);
    return spaces;
  };
  const tableExists = async (spaceId: string) => {
    const rows = await driver.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [
      spaceLocation('vectors', spaceId),
    ]);
    return rows[0]?.t !== null;
  };
  const recordOf = async (spaceId: string) =>
    (await store.listVectorSpaces()).find((r) => r.id === spaceId);

  before(async () => {
    dir = await createTempDir('spaces-drop-');
    driver = await createPgliteDriver(path.join(dir.path, 'pglite'));
    store = await createSqlRelationalStore(driver);
  });
  after(async () => {
    for (const spaces of opened) await spaces.close();
    await store.close();
    await dir.remove();
  });

  it('keeps a retired space through its grace period, then drops its table once', async () => {
    await open(OLD);
    const switched = await open(NEW);
    await store.activateVectorSpace(NEW.id);
    await switched.refresh();
    assert.equal((await recordOf(OLD.id))?.state, 'retired');

    assert.deepEqual(await switched.dropRetired(60 * 60 * 1000), [], 'still in its grace period');
    assert.ok(await tableExists(OLD.id));
    assert.deepEqual(await switched.dropRetired(0), [OLD.id]);
    assert.equal(await tableExists(OLD.id), false);
    assert.ok((await recordOf(OLD.id))?.droppedAt instanceof Date);
    assert.deepEqual(await switched.dropRetired(0), [], 'dropped once');
    assert.ok(await tableExists(NEW.id), 'the serving space is left alone');
  });

  it('rebuilds a dropped space when the configuration goes back to it', async () => {
    const back = await open(OLD);
    const record = await recordOf(OLD.id);
    assert.equal(record?.state, 'building');
    assert.equal(record?.droppedAt, null);
    assert.ok(await tableExists(OLD.id));
    const userId = randomUUID();
    const [vector] = await OLD.embed(['back again']);
    await back.target().index.upsert([{ id: randomUUID(), userId, vector: vector!, tags: [] }]);
    assert.equal(await back.target().index.count(userId), 1);
  });

  describe('through the index reconciler', () => {
    let engine: TestEngine;
    let api: TestApi;
    let worker: RunningWorker;
    const queue = `test-drop-spaces-${randomUUID()}`;

    before(async () => {
      engine = await createTestEngine('pglite');
      api = await startTestApi(engine, { worker: false });
    });
    after(async () => {
      await worker?.stop();
      await api.stop();
      await engine.close();
    });

    it('drops the spaces retired longer ago than its grace period', async () => {
      // The old embedder's space (rebuilt above) serves for a while, then the new one again.
      await store.activateVectorSpace(OLD.id);
      await store.activateVectorSpace(NEW.id);
      assert.equal((await recordOf(OLD.id))?.state, 'retired');
      const spaces = await open(NEW);
      worker = await startTestWorker(engine, queue, {
        dropRetiredSpaces: (graceMs) => spaces.dropRetired(graceMs),
      });
      const run = (dropRetiredAfterMs: number) =>
        api.client.workflow.execute(indexReconcilerWorkflow, {
          taskQueue: queue,
          workflowId: `test-reconcile-${randomUUID()}`,
          args: [{ olderThanMs: 60_000, limit: 10, dropRetiredAfterMs }],
        });
      assert.deepEqual((await run(60 * 60 * 1000)).dropped, []);
      assert.ok(await tableExists(OLD.id));
      assert.deepEqual((await run(0)).dropped, [OLD.id]);
      assert.equal(await tableExists(OLD.id), false);
    });
  });
});
