import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Connection } from '@temporalio/client';
import { createApp } from '../../api/app.ts';
import { startServer, type RunningServer } from '../../api/server.ts';
import type { RelationalStore } from '../../core/ports/relational-store.ts';
import { createPgDriver } from '../../infra/db/pg-driver.ts';
import { createPgliteDriver } from '../../infra/db/pglite-driver.ts';
import { createSqlRelationalStore } from '../../infra/db/sql-relational-store.ts';
import {
  freePort,
  startTemporalDevServer,
  type TemporalDevServer,
} from '../../infra/temporal/temporal-dev-server.ts';
import { createLogger } from '../../infra/logger.ts';
import { pingTemporal } from '../../infra/temporal/connection.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';
import { requireTestEnv } from '../support/test-env.ts';

const cliPath = requireTestEnv('TEMPORAL_CLI_PATH');
const logger = createLogger('silent');

describe('API basics against a real store and a real Temporal dev server', () => {
  let store: RelationalStore;
  let temporal: TemporalDevServer;
  let connection: Connection;
  let server: RunningServer;
  let dir: TempDir;

  before(async () => {
    dir = await createTempDir('api-basics-');
    temporal = await startTemporalDevServer({
      cliPath,
      port: await freePort(),
      uiPort: await freePort(),
      dbFile: path.join(dir.path, 'temporal.db'),
      logFile: path.join(dir.path, 'temporal.log'),
      log: () => undefined,
    });
    connection = Connection.lazy({ address: temporal.address, interceptors: [] });
    store = await createSqlRelationalStore(await createPgliteDriver('memory://'));
    const app = createApp({
      logger,
      readinessChecks: [
        { name: 'database', check: () => store.ping() },
        { name: 'temporal', check: () => pingTemporal(connection, 1000) },
      ],
      readinessTimeoutMs: 1500,
      bodyLimitKb: 1,
      memoryBudgetMb: 2048,
    });
    server = await startServer(app, '127.0.0.1', 0);
  });

  after(async () => {
    await server.stop();
    await connection.close();
    await store.close();
    await temporal.stop();
    await dir.remove();
  });

  it('answers /healthz with 200 and a request id header', async () => {
    const res = await fetch(`${server.url}/healthz`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('echoes a sane caller request id', async () => {
    const res = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'abc-123' } });
    assert.equal(res.headers.get('x-request-id'), 'abc-123');
  });

  it('answers /readyz with 200 when the database and Temporal answer', async () => {
    const res = await fetch(`${server.url}/readyz`);
    const body = (await res.json()) as { status: string; checks: Record<string, { ok: boolean }> };
    assert.equal(res.status, 200);
    assert.equal(body.status, 'ready');
    assert.equal(body.checks.database?.ok, true);
    assert.equal(body.checks.temporal?.ok, true);
  });

  it('serves a self-contained dashboard page and the status figures it polls', async () => {
    const page = await fetch(`${server.url}/dashboard`);
    const html = await page.text();
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.doesNotMatch(html, /(src|href)=["']https?:/);
    const status = (await (await fetch(`${server.url}/status`)).json()) as {
      memory: { rss: number; budget: number };
    };
    assert.ok(status.memory.rss > 0);
    assert.equal(status.memory.budget, 2048 * 1024 * 1024);
  });

  it('answers an unknown route with a JSON 404 in the error envelope', async () => {
    const res = await fetch(`${server.url}/nope`);
    const body = (await res.json()) as {
      error: { code: string; message: string; request_id: string };
    };
    assert.equal(res.status, 404);
    assert.equal(body.error.code, 'not_found');
    assert.match(body.error.message, /GET \/nope/);
    assert.equal(body.error.request_id, res.headers.get('x-request-id'));
  });

  it('answers malformed JSON with a 400 that says so', async () => {
    const res = await fetch(`${server.url}/readyz`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"broken": ',
    });
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(res.status, 400);
    assert.equal(body.error.code, 'bad_request');
    assert.match(body.error.message, /not valid JSON/);
  });

  it('answers a body over the limit with a 413', async () => {
    const res = await fetch(`${server.url}/readyz`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'x'.repeat(4096) }),
    });
    const body = (await res.json()) as { error: { code: string } };
    assert.equal(res.status, 413);
    assert.equal(body.error.code, 'payload_too_large');
  });

  it('turns /readyz into a 503 naming temporal once the dev server stops', async () => {
    await temporal.stop();
    const res = await fetch(`${server.url}/readyz`);
    const body = (await res.json()) as {
      down: string[];
      message: string;
      checks: Record<string, { ok: boolean }>;
    };
    assert.equal(res.status, 503);
    assert.deepEqual(body.down, ['temporal']);
    assert.match(body.message, /temporal/);
    assert.equal(body.checks.database?.ok, true);
  });
});

describe('readiness with an unreachable PostgreSQL', () => {
  it('answers /readyz with a 503 naming the database', async () => {
    const driver = await createPgDriver({
      url: 'postgres://nobody:nothing@127.0.0.1:1/none',
      poolSize: 1,
      statementTimeoutMs: 1000,
      connectTimeoutMs: 500,
    });
    const app = createApp({
      logger,
      readinessChecks: [
        { name: 'database', check: () => driver.query('SELECT 1').then(() => undefined) },
      ],
      readinessTimeoutMs: 1500,
      bodyLimitKb: 16,
      memoryBudgetMb: 2048,
    });
    const server = await startServer(app, '127.0.0.1', 0);
    try {
      const res = await fetch(`${server.url}/readyz`);
      const body = (await res.json()) as { down: string[] };
      assert.equal(res.status, 503);
      assert.deepEqual(body.down, ['database']);
    } finally {
      await server.stop();
      await driver.close();
    }
  });
});
