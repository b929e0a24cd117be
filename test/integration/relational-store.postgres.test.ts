import assert from 'node:assert/strict';
import net from 'node:net';
import { it } from 'node:test';
import { AppError } from '../../core/errors.ts';
import { createPgDriver } from '../../infra/db/pg-driver.ts';
import { createSqlRelationalStore } from '../../infra/db/sql-relational-store.ts';
import { relationalStoreContract } from '../contracts/relational-store.contract.ts';
import { requireTestEnv } from '../support/test-env.ts';

const url = requireTestEnv('TEST_DATABASE_URL');
const driverOptions = { url, poolSize: 5, statementTimeoutMs: 5000, connectTimeoutMs: 3000 };

relationalStoreContract('PostgreSQL', async () =>
  createSqlRelationalStore(await createPgDriver(driverOptions)),
);

it('migrates exactly once when several processes start at the same time', async () => {
  const drivers = await Promise.all([1, 2, 3].map(() => createPgDriver(driverOptions)));
  const stores = await Promise.all(drivers.map((d) => createSqlRelationalStore(d)));
  const rows = await drivers[0]!.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM schema_migrations WHERE version = 1',
  );
  assert.equal(rows[0]?.n, 1);
  await Promise.all(stores.map((s) => s.close()));
});

it('reports an unreachable server as dependency_unavailable, not a crash', async () => {
  const driver = await createPgDriver({
    ...driverOptions,
    url: 'postgres://nobody:nothing@127.0.0.1:1/none',
    connectTimeoutMs: 1000,
  });
  await assert.rejects(
    driver.query('SELECT 1'),
    (error: unknown) => error instanceof AppError && error.code === 'dependency_unavailable',
  );
  await driver.close();
});

it('cuts a statement that runs past the statement timeout', async () => {
  const driver = await createPgDriver({ ...driverOptions, statementTimeoutMs: 200 });
  await assert.rejects(
    driver.query('SELECT pg_sleep(5)'),
    (error: unknown) => error instanceof AppError && error.code === 'dependency_unavailable',
  );
  await driver.close();
});

it('reports a pool whose every connection stayed busy as overloaded, not as an outage', async () => {
  const driver = await createPgDriver({ ...driverOptions, poolSize: 1, connectTimeoutMs: 300 });
  try {
    const holding = driver.query('SELECT pg_sleep(1.5)');
    const overloaded = (error: unknown) =>
      error instanceof AppError &&
      error.code === 'overloaded' &&
      /all 1 database connections stayed busy/.test(error.message);
    await assert.rejects(driver.query('SELECT 1'), overloaded);
    await assert.rejects(
      driver.transaction((tx) => tx.query('SELECT 1')),
      overloaded,
    );
    await holding;
    assert.deepEqual(await driver.query('SELECT 1 AS one'), [{ one: 1 }]);
  } finally {
    await driver.close();
  }
});

it('reports a server that never answers the connection as dependency_unavailable', async () => {
  // Accepts the connection and says nothing: the pool's one connection is connecting, not busy.
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const { port } = silent.address() as net.AddressInfo;
  const driver = await createPgDriver({
    ...driverOptions,
    url: `postgres://nobody:nothing@127.0.0.1:${port}/none`,
    poolSize: 1,
    connectTimeoutMs: 300,
  });
  try {
    await assert.rejects(
      driver.query('SELECT 1'),
      (error: unknown) => error instanceof AppError && error.code === 'dependency_unavailable',
    );
  } finally {
    await driver.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  }
});
