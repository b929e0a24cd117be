import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { createPgDriver } from '../../infra/db/pg-driver.ts';
import { createSqlRelationalStore } from '../../infra/db/sql-relational-store.ts';
import { requireTestEnv } from '../support/test-env.ts';

const url = requireTestEnv('TEST_DATABASE_URL');
const options = { url, poolSize: 2, statementTimeoutMs: 60_000, connectTimeoutMs: 60_000 };
const closers: (() => Promise<void>)[] = [];
after(() => Promise.all(closers.map((close) => close())));

it('saves, edits and deletes while reads hold every connection of the main pool', async () => {
  const driver = await createPgDriver(options);
  const store = await createSqlRelationalStore(driver);
  closers.push(() => store.close());
  const user = await store.createUser({});
  const marker = `held-${user.id}`;

  // Two reads that hold the pool's two connections until they are cancelled below.
  let held = 0;
  const holds = Array.from({ length: 2 }, () =>
    driver
      .query(`SELECT pg_sleep(60), $1::text AS marker`, [marker])
      .catch(() => undefined)
      .finally(() => held--),
  );
  held = holds.length;
  const admin = await createPgDriver({ ...options, poolSize: 1 });
  closers.push(() => admin.close());
  const sleeping = async () =>
    (
      await admin.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%' AND state = 'active'`,
      )
    )[0]!.n;
  const deadline = Date.now() + 30_000;
  while (Number(await sleeping()) < 2) {
    assert.ok(Date.now() < deadline, 'both reads started');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }

  const saved = await store.insertMemories(user.id, [{ content: 'Saved past a busy pool' }]);
  assert.equal(saved[0]?.created, true);
  assert.equal(held, 2, 'the save did not wait for a read to give its connection back');
  const id = saved[0]!.memory.id;
  const edited = await store.updateMemory(user.id, id, { content: 'Edited past a busy pool' });
  assert.equal(edited?.content, 'Edited past a busy pool');
  const other = await store.insertMemories(user.id, [{ content: 'Deleted past a busy pool' }]);
  assert.equal(await store.deleteMemory(user.id, other[0]!.memory.id), true);
  assert.equal(held, 2, 'no write waited for a read to give its connection back');
  // A conversation's facts: added and revised together, as POST /v1/conversations does.
  const kept = saved[0]!.memory;
  const changes = await store.applyMemoryChanges(user.id, {
    inserts: [{ content: 'Learnt from a conversation past a busy pool' }],
    updates: [{ memoryId: id, revision: kept.revision + 1, content: 'Revised past a busy pool' }],
  });
  assert.equal(changes.inserted[0]?.created, true);
  assert.equal(changes.updated[0]?.kind, 'updated');
  assert.equal(held, 2, "a conversation's changes did not wait for a read either");

  await admin.query(
    `SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(60)%'`,
  );
  await Promise.all(holds);
  // Reads take the main pool, free again now.
  assert.equal((await store.getMemory(user.id, id))?.content, 'Revised past a busy pool');
  assert.equal(await store.getMemory(user.id, other[0]!.memory.id), null);
});
