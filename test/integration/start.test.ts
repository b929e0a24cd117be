import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../infra/temporal/temporal-dev-server.ts';
import { selfCheckWorkflow } from '../../workflows/index.ts';
import { exitOf, ROOT, spawnUntilReady } from '../support/child-process.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';
import { requireTestEnv } from '../support/test-env.ts';

const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
requireTestEnv('TEMPORAL_CLI_PATH');

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

describe('npm start: the whole embedded stack in one process', () => {
  let child: ChildProcess;
  let output: () => string;
  let apiUrl: string;
  let temporalPort: number;
  let uiPort: number;
  let dataDir: TempDir;

  before(async () => {
    dataDir = await createTempDir('start-');
    // As root the local PostgreSQL runs as the system user memengine, who must enter the data directory.
    await fs.chmod(dataDir.path, 0o755);
    temporalPort = await freePort();
    uiPort = await freePort();
    const started = await spawnUntilReady(
      'start',
      tsx,
      [path.join(ROOT, 'scripts/start.ts')],
      {
        PORT: '0',
        TEMPORAL_PORT: String(temporalPort),
        TEMPORAL_UI_PORT: String(uiPort),
        DATA_DIR: dataDir.path,
        LOG_LEVEL: 'warn',
        // No DATABASE_URL and the default STORE: the local PostgreSQL 18 the product runs itself.
        DATABASE_URL: '',
        STORE: '',
        LOCAL_PG_PORT: '',
        TEMPORAL_ADDRESS: '',
      },
      /API\s+(http:\/\/127\.0\.0\.1:\d+)/,
    );
    ({ child, output } = started);
    apiUrl = started.match[1]!;
  });

  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await exitOf(child);
    }
    await dataDir.remove();
  });

  it('prints the API, dashboard and Temporal UI addresses', () => {
    assert.match(output(), /Dashboard\s+http:\/\/127\.0\.0\.1:\d+\/dashboard/);
    assert.match(output(), new RegExp(`Temporal UI\\s+http://127\\.0\\.0\\.1:${uiPort}`));
  });

  it('is ready: /readyz answers 200 and the Temporal UI answers', async () => {
    const ready = await fetch(`${apiUrl}/readyz`);
    const body = await ready.text();
    assert.equal(ready.status, 200, body);
    assert.equal(JSON.parse(body).checks?.postgres?.ok, true, body);
    const ui = await fetch(`http://127.0.0.1:${uiPort}/`);
    assert.equal(ui.status, 200);
    const dashboard = await fetch(`${apiUrl}/dashboard`);
    assert.equal(dashboard.status, 200);
  });

  it('keeps its data in the local PostgreSQL under the data directory, not in PGlite', async () => {
    const cluster = path.join(dataDir.path, 'postgres', 'cluster');
    assert.equal((await fs.readFile(path.join(cluster, 'PG_VERSION'), 'utf8')).trim(), '18');
    await assert.rejects(fs.access(path.join(dataDir.path, 'pglite')));
  });

  it('runs a workflow on its own worker against its embedded database', async () => {
    const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
    try {
      const client = new Client({ connection });
      const result = await client.workflow.execute(selfCheckWorkflow, {
        taskQueue: 'memory-system',
        workflowId: `self-check-${randomUUID()}`,
        args: [{ requestedBy: 'start test' }],
      });
      assert.match(result.selfCheckId, /^[0-9a-f-]{36}$/);
    } finally {
      await connection.close();
    }
  });

  it('shuts everything down on SIGTERM, including the dev server and PostgreSQL it started', async () => {
    const pgPort = Number(await fs.readFile(path.join(dataDir.path, 'postgres', 'port'), 'utf8'));
    assert.equal(await portOpen(pgPort), true);
    child.kill('SIGTERM');
    assert.equal(await exitOf(child), 0, output());
    assert.equal(await portOpen(temporalPort), false);
    assert.equal(await portOpen(pgPort), false);
    await assert.rejects(
      fs.access(path.join(dataDir.path, 'postgres', 'cluster', 'postmaster.pid')),
      'PostgreSQL shut down cleanly (no postmaster.pid left)',
    );
  });
});

describe('npm start with a bad configuration', () => {
  it('exits non-zero with one line that names the variable', async () => {
    const child = spawn(tsx, [path.join(ROOT, 'scripts/start.ts')], {
      cwd: ROOT,
      env: { ...process.env, PORT: 'eighty', MEMORY_BUDGET_MB: '-5' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await exitOf(child);
    assert.notEqual(code, 0);
    assert.match(stderr, /PORT: expected a port number/);
    assert.match(stderr, /MEMORY_BUDGET_MB/);
    assert.equal(stderr.trim().split('\n').length, 1);
  });
});
