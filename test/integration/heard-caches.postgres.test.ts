import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import type { RelationalStore } from '../../core/ports/relational-store.ts';
import { createPgDriver } from '../../infra/db/pg-driver.ts';
import type { SqlDriver } from '../../infra/db/sql-driver.ts';
import { createSqlRelationalStore } from '../../infra/db/sql-relational-store.ts';
import { eventually } from '../support/test-api.ts';
import { requireTestEnv } from '../support/test-env.ts';

const url = requireTestEnv('TEST_DATABASE_URL');
const driverOptions = { url, poolSize: 2, statementTimeoutMs: 5000, connectTimeoutMs: 3000 };
const closers: (() => Promise<void>)[] = [];
after(() => Promise.all(closers.map((close) => close())));

/** A store over a driver that counts the statements it is given. */
async function openStore(): Promise<{ store: RelationalStore; statements: () => number }> {
  const driver = await createPgDriver(driverOptions);
  let count = 0;
  const counting: SqlDriver = {
    ...driver,
    query: (sql, params) => {
      count += 1;
      return driver.query(sql, params);
    },
  };
  const store = await createSqlRelationalStore(counting);
  closers.push(() => store.close());
  return { store, statements: () => count };
}

it('answers a data version from memory, and hears changes made by another process', async () => {
  const a = await openStore();
  const b = await openStore();
  const user = await a.store.createUser({});
  await eventually('b reads version 0', async () => (await b.store.dataVersionOf(user.id)) === 0);
  // Once b hears changes (LISTEN in place), a version it read is answered without a statement.
  await eventually('b answers from memory', async () => {
    const before = b.statements();
    await b.store.dataVersionOf(user.id);
    return b.statements() === before;
  });

  await a.store.insertMemories(user.id, [{ content: 'Keeps bees' }, { content: 'Reads Borges' }]);
  await eventually('b hears the save', async () => (await b.store.dataVersionOf(user.id)) === 2);
  await eventually('a hears its own', async () => (await a.store.dataVersionOf(user.id)) === 2);

  // A change made behind the product's back is announced by the trigger all the same.
  const admin = await createPgDriver(driverOptions);
  try {
    await admin.query('UPDATE users SET data_version = data_version + 5 WHERE id = $1', [user.id]);
  } finally {
    await admin.close();
  }
  await eventually('b hears the UPDATE', async () => (await b.store.dataVersionOf(user.id)) === 7);
});

it('while a process cannot hear changes it reads the version every time', async () => {
  const a = await openStore();
  const user = await a.store.createUser({});
  await eventually('a answers from memory', async () => {
    await a.store.dataVersionOf(user.id);
    const before = a.statements();
    await a.store.dataVersionOf(user.id);
    return a.statements() === before;
  });
  // Cut every listener's connection, then change the version while nobody hears it.
  const admin = await createPgDriver(driverOptions);
  try {
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = 'memory-engine-listener'`,
    );
    await admin.query('UPDATE users SET data_version = data_version + 3 WHERE id = $1', [user.id]);
  } finally {
    await admin.close();
  }
  // Either a noticed the cut (cache emptied and bypassed) or not yet; once it has reconnected
  // and emptied its cache, the change it never heard is read.
  await eventually('a reads version 3', async () => (await a.store.dataVersionOf(user.id)) === 3);
});

it('answers the latest narrative from memory, and hears narratives saved and users deleted', async () => {
  const a = await openStore();
  const b = await openStore();
  const user = await a.store.createUser({});
  const portrait = { content: 'Ada keeps bees and reads Borges.', dataVersion: 0, model: 'test' };
  assert.equal(await b.store.latestNarrative(user.id), null);
  await eventually('b answers "no narrative yet" from memory', async () => {
    await b.store.latestNarrative(user.id);
    const before = b.statements();
    await b.store.latestNarrative(user.id);
    return b.statements() === before;
  });

  const saved = await a.store.saveNarrative(user.id, portrait);
  await eventually(
    'b hears the narrative saved through a',
    async () => (await b.store.latestNarrative(user.id))?.version === saved.version,
  );
  const next = await a.store.saveNarrative(user.id, { ...portrait, dataVersion: 1 });
  await eventually(
    'b hears the next one',
    async () => (await b.store.latestNarrative(user.id))?.version === next.version,
  );

  const admin = await createPgDriver(driverOptions);
  try {
    await admin.query('DELETE FROM users WHERE id = $1', [user.id]);
  } finally {
    await admin.close();
  }
  await eventually(
    "b forgets a deleted user's narrative",
    async () => (await b.store.latestNarrative(user.id)) === null,
  );
});
