import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startStack, type Stack } from '../../app/stack.ts';
import { loadConfig, type Config } from '../../infra/config.ts';
import { runningPostmaster } from '../../infra/postgres/cluster-files.ts';
import { withClient } from '../../infra/postgres/pg-connection.ts';
import { prepareEmbeddedCluster } from '../../infra/postgres/embedded-cluster.ts';
import { ensurePgserverInstalled } from '../../infra/postgres/pgserver-install.ts';
import { isAlive } from '../../infra/process/process-tools.ts';
import { acceptsConnections, freePort } from '../../infra/process/service-tools.ts';
import { projectRoot } from '../../infra/project-root.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';
import { ADMIN_KEY, call, createUser, eventually, saveIndexed } from '../support/test-api.ts';
import { requireTestEnv } from '../support/test-env.ts';

requireTestEnv('TEMPORAL_CLI_PATH');

/** The pids of every process (postmaster and backends) whose working directory is `dir`. */
async function processesIn(dir: string): Promise<number[]> {
  const real = await fs.realpath(dir);
  const pids: number[] = [];
  for (const entry of await fs.readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const cwd = await fs.readlink(`/proc/${entry}/cwd`).catch(() => '');
    if (cwd === real) pids.push(Number(entry));
  }
  return pids;
}

/** A data directory the server's system user (as root: memengine) may enter. */
async function serverDataDir(prefix: string): Promise<TempDir> {
  const dir = await createTempDir(prefix);
  await fs.chmod(dir.path, 0o755);
  return dir;
}

describe('npm start without DATABASE_URL runs and supervises a local PostgreSQL 18', () => {
  let dataDir: TempDir;
  let config: Config;
  let stack: Stack | undefined;
  let user: { api_key: string };
  let savedId: string;
  const postgres = () => stack!.services().find((s) => s.name === 'postgres');
  const cluster = () => path.join(dataDir.path, 'postgres', 'cluster');

  before(async () => {
    dataDir = await serverDataDir('embedded-pg-');
    config = loadConfig({
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      TEMPORAL_ADDRESS: '',
      TEMPORAL_PORT: String(await freePort()),
      TEMPORAL_UI_PORT: String(await freePort()),
      DATA_DIR: dataDir.path,
      DATABASE_URL: '',
      STORE: '',
      LOCAL_PG_PORT: '',
      ADMIN_API_KEY: ADMIN_KEY,
      EMBEDDER: 'hashing',
    });
    assert.equal(config.database, 'embedded');
    stack = await startStack(config, pino({ level: 'error' }), 'all');
  });

  after(async () => {
    await stack?.stop();
    await dataDir?.remove();
  });

  it('keeps a saved memory when the server is killed (SIGKILL), restarts it, and saves again', async () => {
    const apiUrl = stack!.apiUrl!;
    user = await createUser(apiUrl);
    savedId = await saveIndexed(apiUrl, user.api_key, 'saved before PostgreSQL was killed');
    const first = postgres();
    assert.equal(first?.state, 'running');

    // Polled every few ms: the restart pause (500 ms) is far longer.
    const states: string[] = [];
    const look = () => {
      const state = postgres()?.state ?? 'missing';
      if (states.at(-1) !== state) states.push(state);
    };
    const watching = setInterval(look, 5);
    try {
      process.kill(first!.pid!, 'SIGKILL');
      await eventually('postgres restarted', async () => postgres()?.restarts === 1);
    } finally {
      clearInterval(watching);
      // The restart may land between two ticks of the watcher: its state is taken once more.
      look();
    }
    assert.deepEqual(states.slice(-2), ['restarting', 'running'], states.join(' → '));
    assert.match(postgres()!.lastExit ?? '', /SIGKILL/);
    assert.notEqual(postgres()!.pid, first!.pid);

    // The pool's connections died with the server: the engine reconnects on its own.
    await eventually('the memory saved before the crash is read back', async () => {
      const res = await call(apiUrl, 'GET', `/v1/memories/${savedId}`, { key: user.api_key });
      return res.status === 200 && res.body.content === 'saved before PostgreSQL was killed';
    });
    await saveIndexed(apiUrl, user.api_key, 'saved after the restart');
    const ready = await call(apiUrl, 'GET', '/readyz');
    assert.equal(ready.status, 200, JSON.stringify(ready.body));
    assert.equal(ready.body.checks.postgres.ok, true);
  });

  it('runs background work on connections whose server processes yield the CPU to queries', async () => {
    const apiUrl = stack!.apiUrl!;
    // Indexing runs as activities, at background priority, on connections kept 30 s after.
    await saveIndexed(apiUrl, user.api_key, 'indexed on a background connection');
    await call(apiUrl, 'GET', `/v1/memories/${savedId}`, { key: user.api_key });
    const port = (await fs.readFile(path.join(dataDir.path, 'postgres', 'port'), 'utf8')).trim();
    const password = (
      await fs.readFile(path.join(cluster(), 'memengine-admin-password'), 'utf8')
    ).trim();
    const url = `postgres://memengine:${encodeURIComponent(password)}@127.0.0.1:${port}/memory_engine`;
    const backends = await withClient(url, async (c) =>
      (
        await c.query<{ pid: number; app: string }>(
          `SELECT pid, application_name AS app FROM pg_stat_activity
           WHERE application_name LIKE 'memory-engine%'`,
        )
      ).rows.map((row) => ({ app: row.app, nice: os.getPriority(row.pid) })),
    );
    const base = os.getPriority(postgres()!.pid!);
    const niceOf = (app: string) => backends.filter((b) => b.app === app).map((b) => b.nice);
    assert.ok(niceOf('memory-engine-background').length > 0, JSON.stringify(backends));
    assert.ok(niceOf('memory-engine').length > 0, JSON.stringify(backends));
    for (const nice of niceOf('memory-engine-background'))
      assert.equal(nice, Math.min(19, base + 5));
    for (const app of ['memory-engine', 'memory-engine-writes']) {
      for (const nice of niceOf(app)) assert.equal(nice, base, app);
    }
  });

  it('leaves no server process behind on stop, and a second start reuses the cluster and port', async () => {
    const port = Number(await fs.readFile(path.join(dataDir.path, 'postgres', 'port'), 'utf8'));
    const pid = postgres()!.pid!;
    await stack!.stop();
    stack = undefined;
    assert.equal(isAlive(pid), false);
    assert.deepEqual(await processesIn(cluster()), []);
    assert.equal(await acceptsConnections(port), false);
    await assert.rejects(fs.access(path.join(cluster(), 'postmaster.pid')));

    stack = await startStack(config, pino({ level: 'error' }), 'all');
    assert.equal(postgres()?.state, 'running');
    assert.equal(await acceptsConnections(port), true, `listening on the kept port ${port}`);
    const res = await call(stack.apiUrl!, 'GET', `/v1/memories/${savedId}`, {
      key: user.api_key,
    });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.content, 'saved before PostgreSQL was killed');
  });
});

describe('the local PostgreSQL after a killed product run', () => {
  let dataDir: TempDir;

  before(async () => {
    dataDir = await serverDataDir('embedded-pg-left-');
  });

  after(async () => {
    await dataDir?.remove();
  });

  const prepare = (port = 0) =>
    prepareEmbeddedCluster({
      projectRoot,
      root: path.join(dataDir.path, 'postgres'),
      port,
      database: 'memory_engine',
      env: process.env,
      log: () => {},
    });

  it("gives the product a URL over the server's Unix socket, with a password still due", async () => {
    const prepared = await prepare();
    const run = await prepared.startRun();
    try {
      const url = new URL(prepared.url);
      const socketDir = url.searchParams.get('host');
      assert.equal(socketDir, path.join(dataDir.path, 'postgres', 'socket'));
      assert.equal((await fs.stat(socketDir!)).mode & 0o777, 0o700);
      // inet_server_addr() is null on a Unix-socket connection.
      const over = await withClient(prepared.url, (c) =>
        c.query('SELECT inet_server_addr() AS addr'),
      );
      assert.equal(over.rows[0].addr, null);
      url.password = 'wrong';
      await assert.rejects(
        withClient(url.toString(), (c) => c.query('SELECT 1')),
        /password authentication failed/,
      );
    } finally {
      await run.stop();
      await prepared.release();
    }
  });

  it('stops a server left running on its data directory and starts its own', async () => {
    const first = await prepare();
    const leftover = await first.startRun();
    // The product was SIGKILLed: its lock is gone, its server still runs.
    await first.release();
    const clusterDir = path.join(dataDir.path, 'postgres', 'cluster');
    assert.equal((await runningPostmaster(clusterDir, () => {}))?.pid, leftover.pid);

    const second = await prepare();
    assert.equal(second.port, first.port);
    assert.equal(await leftover.exited, 'code 0', 'the leftover was shut down cleanly');
    const run = await second.startRun();
    try {
      assert.equal((await runningPostmaster(clusterDir, () => {}))?.pid, run.pid);
    } finally {
      await run.stop();
      await second.release();
    }
    assert.match(await run.exited, /^code 0$/);
  });

  it('chooses another port when the kept one is taken by another program, and keeps it', async () => {
    const kept = Number(await fs.readFile(path.join(dataDir.path, 'postgres', 'port'), 'utf8'));
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(kept, '127.0.0.1', resolve));
    try {
      const cluster = await prepare();
      assert.notEqual(cluster.port, kept);
      const run = await cluster.startRun();
      await run.stop();
      await cluster.release();
      const now = Number(await fs.readFile(path.join(dataDir.path, 'postgres', 'port'), 'utf8'));
      assert.equal(now, cluster.port);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  });
});

describe('the local PostgreSQL cannot be had', () => {
  it('names the missing python3 and suggests STORE=pglite or DATABASE_URL', async () => {
    const tools = await createTempDir('no-python-');
    try {
      await assert.rejects(
        ensurePgserverInstalled(tools.path, { PATH: tools.path }, () => {}),
        /python3 is not on PATH: install python3 with pip, or set STORE=pglite .* or DATABASE_URL/,
      );
    } finally {
      await tools.remove();
    }
  });

  it('refuses an API or worker process of its own without DATABASE_URL, naming it', async () => {
    const dataDir = await createTempDir('embedded-pg-role-');
    try {
      const config = loadConfig({ DATA_DIR: dataDir.path, LOG_LEVEL: 'silent' });
      for (const role of ['api', 'worker'] as const) {
        await assert.rejects(
          startStack(config, pino({ level: 'silent' }), role),
          /DATABASE_URL is not set and this process does not run the local PostgreSQL.*set DATABASE_URL/,
        );
      }
      assert.deepEqual(await fs.readdir(dataDir.path), [], 'nothing was started');
    } finally {
      await dataDir.remove();
    }
  });
});
