import assert from 'node:assert/strict';
import { after, it } from 'node:test';
import { generateApiKey } from '../../core/auth/api-keys.ts';
import type { RelationalStore } from '../../core/ports/relational-store.ts';
import { createPgDriver } from '../../infra/db/pg-driver.ts';
import { createSqlRelationalStore } from '../../infra/db/sql-relational-store.ts';
import { eventually } from '../support/test-api.ts';
import { requireTestEnv } from '../support/test-env.ts';

const url = requireTestEnv('TEST_DATABASE_URL');
const driverOptions = { url, poolSize: 2, statementTimeoutMs: 5000, connectTimeoutMs: 3000 };
const stores: RelationalStore[] = [];
after(() => Promise.all(stores.map((s) => s.close())));

async function openStore() {
  const store = await createSqlRelationalStore(await createPgDriver(driverOptions));
  stores.push(store);
  return store;
}

it('a key revoked through one process is refused by another that had it cached', async () => {
  const [a, b] = [await openStore(), await openStore()];
  const user = await a.createUser({});
  const key = generateApiKey();
  const stored = await a.insertApiKey(user.id, key);
  // Once b hears revocations (LISTEN in place) its lookups are remembered.
  await eventually(
    'b finds the key',
    async () => (await b.findUserByKeyHash(key.hash))?.userId === user.id,
  );
  const probe = generateApiKey();
  const other = await b.insertApiKey(user.id, probe);
  assert.equal((await b.findUserByKeyHash(probe.hash))?.keyId, other.id);

  assert.equal(await a.revokeApiKey(stored.id), true);
  await eventually('b refuses the key', async () => (await b.findUserByKeyHash(key.hash)) === null);
  assert.equal(await a.findUserByKeyHash(key.hash), null, 'refused at once where it was revoked');
  assert.equal((await b.findUserByKeyHash(probe.hash))?.keyId, other.id, 'other keys still work');
});

it('while a process cannot hear revocations it asks the database every time', async () => {
  const [a, b] = [await openStore(), await openStore()];
  const user = await a.createUser({});
  const key = generateApiKey();
  const stored = await a.insertApiKey(user.id, key);
  assert.equal((await b.findUserByKeyHash(key.hash))?.keyId, stored.id);
  // Cut every listener's connection, then revoke behind the product's back (no notification).
  await a.ping();
  const admin = await createPgDriver(driverOptions);
  try {
    await admin.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = 'memory-engine-listener'`,
    );
    await admin.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1', [stored.id]);
  } finally {
    await admin.close();
  }
  // Either b noticed the cut (cache emptied and bypassed) or it had not yet; in both cases, once
  // it has reconnected and emptied its cache, the revocation it never heard is seen.
  await eventually('b refuses the key', async () => (await b.findUserByKeyHash(key.hash)) === null);
});
