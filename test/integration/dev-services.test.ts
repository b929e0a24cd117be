import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import pg from 'pg';
import {
  createTestDatabase,
  dropTestDatabase,
  ensureLocalPostgres,
  type LocalPostgres,
} from '../../tools/dev-services/local-postgres.ts';
import { ensureTemporalCli } from '../../infra/temporal/temporal-cli.ts';
import {
  freePort,
  startTemporalDevServer,
  type TemporalDevServer,
} from '../../infra/temporal/temporal-dev-server.ts';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const execFileAsync = promisify(execFile);

async function describeNamespace(address: string, namespace: string) {
  const connection = await Connection.connect({ address, connectTimeout: 5_000 });
  try {
    return await connection.workflowService.describeNamespace({ namespace });
  } finally {
    await connection.close();
  }
}

function connectionOutcome(port: number): Promise<'accepted' | string> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve('accepted');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

describe('Temporal dev server', () => {
  let cliPath: string;
  let workDir: string;
  const running: TemporalDevServer[] = [];

  async function start(t: TestContext, options: { dbFile?: string; namespace?: string } = {}) {
    const [port, uiPort] = [await freePort(), await freePort()];
    const server = await startTemporalDevServer({
      cliPath,
      port,
      uiPort,
      logFile: path.join(workDir, `temporal-${port}.log`),
      log: (msg) => t.diagnostic(msg),
      ...options,
    });
    running.push(server);
    return { server, port, uiPort };
  }

  before(async () => {
    cliPath = await ensureTemporalCli({ projectRoot });
    workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'dev-services-'));
  });

  after(async () => {
    await Promise.all(running.map((server) => server.stop()));
    await fs.rm(workDir, { recursive: true, force: true });
  });

  it('starts on free ports, describes the namespace it was asked to create and serves the Web UI', async (t) => {
    const { server, port, uiPort } = await start(t, {
      dbFile: path.join(workDir, 'first.db'),
      namespace: 'memengine-test',
    });

    assert.equal(server.address, `127.0.0.1:${port}`);
    const created = await describeNamespace(server.address, 'memengine-test');
    assert.equal(created.namespaceInfo?.name, 'memengine-test');
    const fallback = await describeNamespace(server.address, 'default');
    assert.equal(fallback.namespaceInfo?.name, 'default');
    const ui = await fetch(server.uiUrl);
    assert.equal(ui.status, 200);
    assert.match(await ui.text(), /<html/i);
    assert.equal(server.uiUrl, `http://127.0.0.1:${uiPort}`);
    await server.stop();
  });

  it('refuses to start on a port another Temporal server already serves, naming the port', async (t) => {
    const { server, port } = await start(t);

    await assert.rejects(
      startTemporalDevServer({ cliPath, port, uiPort: await freePort() }),
      (error: Error) =>
        error.message.includes(`port ${port}`) && /Temporal server/.test(error.message),
    );
    const stillServing = await describeNamespace(server.address, 'default');
    assert.equal(stillServing.namespaceInfo?.name, 'default');
    await server.stop();
  });

  it('stops serving after stop(), and a second stop() resolves quietly', async (t) => {
    const { server, port, uiPort } = await start(t);
    assert.equal(await connectionOutcome(port), 'accepted');

    await server.stop();
    assert.equal(await connectionOutcome(port), 'ECONNREFUSED');
    assert.equal(await connectionOutcome(uiPort), 'ECONNREFUSED');
    await server.stop();
  });

  it('keeps a namespace created through the CLI when restarted on the same db file', async (t) => {
    const dbFile = path.join(workDir, 'restart.db');
    const first = await start(t, { dbFile });
    await execFileAsync(cliPath, [
      'operator',
      'namespace',
      'create',
      '--namespace',
      'survives-restart',
      '--address',
      first.server.address,
    ]);
    // Its history commits through a write-ahead log (DEV_SERVER_SQLITE_PRAGMAS), not a journal per commit.
    await fs.access(`${dbFile}-wal`); // a write-ahead log beside the database
    await first.server.stop();
    const header = (await fs.readFile(dbFile)).subarray(18, 20);
    assert.deepEqual([...header], [2, 2], 'the file format of a database in WAL mode');

    const second = await start(t, { dbFile });
    const described = await describeNamespace(second.server.address, 'survives-restart');
    assert.equal(described.namespaceInfo?.name, 'survives-restart');
    await second.server.stop();
  });
});

describe('local PostgreSQL', () => {
  let postgres: LocalPostgres;
  const database = `dev_services_${process.pid}`;

  before(async () => {
    postgres = await ensureLocalPostgres({ projectRoot });
  });

  after(async () => {
    await dropTestDatabase(postgres.adminUrl, database);
    await postgres.stop();
  });

  it('creates a test database that stores rows, and drops it so it no longer accepts connections', async () => {
    const url = await createTestDatabase(postgres.adminUrl, database);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('CREATE TABLE notes (id int PRIMARY KEY, body text NOT NULL)');
      await client.query(`INSERT INTO notes VALUES (1, 'remember the milk')`);
      const { rows } = await client.query<{ body: string }>('SELECT body FROM notes');
      assert.deepEqual(rows, [{ body: 'remember the milk' }]);
    } finally {
      await client.end();
    }

    await dropTestDatabase(postgres.adminUrl, database);
    const gone = new pg.Client({ connectionString: url });
    await assert.rejects(gone.connect(), { code: '3D000' }); // invalid_catalog_name
  });

  it('replaces a leftover test database of the same name with an empty one', async () => {
    const url = await createTestDatabase(postgres.adminUrl, database);
    const first = new pg.Client({ connectionString: url });
    first.on('error', () => {}); // the replacement terminates this connection
    await first.connect();
    await first.query('CREATE TABLE leftover (id int)');
    // Left open on purpose: a crashed run leaves connections behind too.

    await createTestDatabase(postgres.adminUrl, database);
    await first.end().catch(() => {});
    const second = new pg.Client({ connectionString: url });
    await second.connect();
    try {
      const { rows } = await second.query(`SELECT to_regclass('leftover') AS t`);
      assert.deepEqual(rows, [{ t: null }]);
    } finally {
      await second.end();
    }
  });

  it('rejects a database name that is not a plain identifier', async () => {
    await assert.rejects(
      createTestDatabase(postgres.adminUrl, 'x"; DROP'),
      /invalid test database name/,
    );
  });
});
