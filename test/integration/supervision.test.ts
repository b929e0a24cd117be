import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { startStack, type Stack } from '../../app/stack.ts';
import { loadConfig } from '../../infra/config.ts';
import { acceptsConnections, freePort } from '../../infra/process/service-tools.ts';
import { createTempDir, type TempDir } from '../support/temp-dir.ts';
import { ADMIN_KEY, call, createUser, eventually, saveIndexed } from '../support/test-api.ts';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.ts';
import { requireTestEnv } from '../support/test-env.ts';

requireTestEnv('TEMPORAL_CLI_PATH');

// Far above the save's Temporal deadline (2 s), so only a save that really hangs fails.
const ANSWER_BOUND_MS = 10_000;
const SAVES = 50;

/** A save that must be answered, acknowledged or refused, within the bound. */
async function boundedSave(apiUrl: string, key: string, content: string) {
  try {
    const res = await fetch(`${apiUrl}/v1/memories`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ content }),
      signal: AbortSignal.timeout(ANSWER_BOUND_MS),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  } catch (error) {
    assert.fail(`save "${content}" was not answered within ${ANSWER_BOUND_MS} ms: ${error}`);
  }
}

/**
 * Resolves once a `/readyz` answer satisfies `accept`. Asks every 100 ms
 * without waiting for earlier answers (each may take the readiness timeout),
 * so a state that lasts longer than that is seen.
 */
function readyzAnswers(
  apiUrl: string,
  what: string,
  accept: (res: { status: number; body: any }) => boolean,
  deadlineMs = 120_000,
): Promise<void> {
  let last = 'no answer yet';
  return new Promise((resolve, reject) => {
    const finish = (error?: Error) => {
      clearInterval(asking);
      clearTimeout(giveUp);
      if (error) reject(error);
      else resolve();
    };
    const asking = setInterval(() => {
      call(apiUrl, 'GET', '/readyz').then(
        (res) => {
          last = JSON.stringify(res.body);
          if (accept(res)) finish();
        },
        (error: unknown) => (last = String(error)),
      );
    }, 100);
    const giveUp = setTimeout(
      () => finish(new Error(`/readyz never answered ${what}; last answer: ${last}`)),
      deadlineMs,
    );
  });
}

describe('the embedded Temporal dev server is killed (SIGKILL) during 50 parallel saves', () => {
  let dataDir: TempDir;
  let stack: Stack;
  let apiUrl: string;
  let temporalPort: number;

  before(async () => {
    dataDir = await createTempDir('supervision-');
    temporalPort = await freePort();
    const config = loadConfig({
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      TEMPORAL_ADDRESS: '',
      TEMPORAL_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(await freePort()),
      DATA_DIR: dataDir.path,
      DATABASE_URL: '',
      STORE: 'pglite',
      ADMIN_API_KEY: ADMIN_KEY,
      EMBEDDER: 'hashing',
      INDEX_RECONCILE_INTERVAL_S: '15',
      INDEX_RECONCILE_AFTER_S: '30',
    });
    stack = await startStack(config, pino({ level: 'error' }), 'all');
    apiUrl = stack.apiUrl!;
  });

  after(async () => {
    await stack?.stop();
    await dataDir?.remove();
  });

  it('answers every save, restarts the server with its history, and indexes every acknowledged memory', async (t) => {
    const user = await createUser(apiUrl);
    await saveIndexed(apiUrl, user.api_key, 'saved and indexed before the crash');
    const beforeKill = new Date();
    const [devServer] = stack.services();
    assert.equal(devServer?.state, 'running');

    let answered = 0;
    let killedAt = 0;
    let sawRestarting: Promise<void> | undefined;
    const saves = Array.from({ length: SAVES }, (_, i) =>
      boundedSave(apiUrl, user.api_key, `note ${i} written while Temporal may be down`).then(
        (res) => {
          if (++answered === 10) {
            sawRestarting = readyzAnswers(apiUrl, 'naming the dev server as restarting', (r) => {
              const check = r.body.checks?.['temporal-dev-server'];
              return r.status === 503 && /restarting/.test(check?.error ?? '');
            });
            killedAt = performance.now();
            process.kill(devServer!.pid!, 'SIGKILL');
          }
          return res;
        },
      ),
    );
    const results = await Promise.all(saves);
    await sawRestarting;

    const refused = results.filter((r) => r.status === 503);
    const acked = results.filter((r) => r.status === 201 || r.status === 200);
    assert.equal(acked.length + refused.length, SAVES, JSON.stringify(results));
    for (const r of acked) assert.equal(r.body.index_state, 'pending', JSON.stringify(r.body));

    await eventually('/readyz answers 200 again', async () => {
      return (await call(apiUrl, 'GET', '/readyz')).status === 200;
    });
    const backAt = performance.now();
    const [restarted] = stack.services();
    assert.equal(restarted?.state, 'running');
    assert.ok(restarted.restarts >= 1);
    assert.match(restarted.lastExit ?? '', /SIGKILL/);

    // Every acknowledged memory is indexed without restarting anything.
    const pending = new Set(acked.map((r) => r.body.id as string));
    await eventually(`${pending.size} acknowledged memories indexed`, async () => {
      for (const id of pending) {
        const res = await call(apiUrl, 'GET', `/v1/memories/${id}`, { key: user.api_key });
        if (res.body.index_state !== 'indexed') return false;
        pending.delete(id);
      }
      return true;
    });
    // Figures for the record, not assertions: a slow machine must not fail this test.
    t.diagnostic(
      `${acked.length} acknowledged, ${refused.length} refused; ready again ` +
        `${((backAt - killedAt) / 1000).toFixed(1)} s after the kill; all indexed ` +
        `${((performance.now() - backAt) / 1000).toFixed(1)} s after that`,
    );

    // The restarted server kept its history: the indexing run that indexed the first memory is there.
    const connection = await Connection.connect({ address: `127.0.0.1:${temporalPort}` });
    try {
      const started: Date[] = [];
      for await (const run of new Client({ connection }).workflow.list({
        query: `MemoryKind = 'index'`,
      })) {
        started.push(run.startTime);
      }
      assert.ok(
        started.some((at) => at < beforeKill),
        `a run started before the kill: ${started.map((at) => at.toISOString()).join(', ')}`,
      );
    } finally {
      await connection.close();
    }
  });

  it('does not restart the dev server on a clean shutdown', async () => {
    await stack.stop();
    assert.equal(stack.services()[0]?.state, 'stopped');
    assert.equal(await acceptsConnections(temporalPort), false);
    // Longer than the first restart's pause: a restart would have bound the port again.
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(await acceptsConnections(temporalPort), false);
    assert.equal(stack.services()[0]?.state, 'stopped');
  });
});

describe('the database goes away while the API serves saves', () => {
  const queue = `supervision-${randomUUID()}`;
  let proxy: TcpProxy;
  let stack: Stack;
  let apiUrl: string;
  let dataDir: TempDir;

  before(async () => {
    const target = new URL(requireTestEnv('TEST_PGVECTOR_URL'));
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    target.hostname = '127.0.0.1';
    target.port = String(proxy.port);
    dataDir = await createTempDir('supervision-db-');
    const config = loadConfig({
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      TEMPORAL_ADDRESS: requireTestEnv('TEST_TEMPORAL_ADDRESS'),
      // Queues of its own: the one save it acknowledges is nobody else's to index.
      TASK_QUEUE_INDEXING: queue,
      TASK_QUEUE_NARRATIVES: `${queue}-narratives`,
      DATABASE_URL: target.toString(),
      DATA_DIR: dataDir.path,
      ADMIN_API_KEY: ADMIN_KEY,
      EMBEDDER: 'hashing',
    });
    stack = await startStack(config, pino({ level: 'silent' }), 'api');
    apiUrl = stack.apiUrl!;
  });

  after(async () => {
    await stack?.stop();
    await proxy?.close();
    await dataDir?.remove();
  });

  it('refuses saves with a 503 naming the database, and acknowledges them once it is back', async () => {
    const user = await createUser(apiUrl);
    await proxy.down();
    const refused = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        boundedSave(apiUrl, user.api_key, `note ${i} while the database is down`),
      ),
    );
    for (const res of refused) {
      assert.equal(res.status, 503, JSON.stringify(res.body));
      const error = res.body.error as { code: string; message: string };
      assert.equal(error.code, 'dependency_unavailable');
      assert.match(error.message, /database/);
    }
    const ready = await call(apiUrl, 'GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.ok(ready.body.down.includes('database'), JSON.stringify(ready.body));

    await proxy.up();
    await eventually('a save is acknowledged once the database is back', async () => {
      const res = await boundedSave(apiUrl, user.api_key, 'note written after the outage');
      return res.status === 201;
    });
  });
});
