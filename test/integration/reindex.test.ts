import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { reindexRoutes } from '../../api/admin.routes.ts';
import { createAuthenticator } from '../../api/auth.ts';
import { startServer } from '../../api/server.ts';
import { requeueFailedIndexing } from '../../core/indexing/requeue.ts';
import { createTemporalIndexingQueue } from '../../infra/temporal/temporal-indexing-queue.ts';
import type { RunningWorker } from '../../workers/worker.ts';
import { ADMIN_KEY, call, eventually } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { requireTestEnv } from '../support/test-env.ts';
import { startTestWorker } from '../support/test-worker.ts';
import { edgeApp } from '../support/edge-app.ts';

/**
 * `POST /v1/admin/reindex` on the real HTTP edge, over PGlite and the dev
 * server with an indexing worker: failed memories go back to pending and
 * are indexed, one user's or everyone's.
 */
describe('POST /v1/admin/reindex', () => {
  let engine: TestEngine;
  let connection: Connection;
  let worker: RunningWorker;
  let server: { url: string; stop(): Promise<void> };

  before(async () => {
    engine = await createTestEngine('pglite');
    connection = await Connection.connect({ address: requireTestEnv('TEST_TEMPORAL_ADDRESS') });
    const taskQueue = `test-reindex-${randomUUID()}`;
    const indexingQueue = createTemporalIndexingQueue(new Client({ connection }), taskQueue);
    worker = await startTestWorker(engine, taskQueue, { indexingQueue });
    const app = edgeApp({
      v1: {
        routes: reindexRoutes((userId) =>
          requeueFailedIndexing({ store: engine.store, indexingQueue }, userId),
        ),
        auth: createAuthenticator(engine.store, ADMIN_KEY),
      },
    });
    server = await startServer(app, '127.0.0.1', 0);
  });
  after(async () => {
    await server.stop();
    await worker.stop();
    await connection.close();
    await engine.close();
  });

  /** A user with `n` memories whose indexing failed. */
  async function userWithFailures(n: number) {
    const user = await engine.store.createUser({});
    const saved = await engine.store.insertMemories(
      user.id,
      Array.from({ length: n }, (_, i) => ({ content: `Failed once ${i} ${randomUUID()}` })),
    );
    for (const { memory } of saved) await engine.store.markIndexFailed(user.id, memory.id);
    return { userId: user.id, ids: saved.map((r) => r.memory.id) };
  }

  const states = async (user: { userId: string; ids: string[] }) =>
    Promise.all(
      user.ids.map(async (id) => (await engine.store.getMemory(user.userId, id))?.indexState),
    );

  const reindex = (body: unknown, key: string | undefined = ADMIN_KEY) =>
    call(server.url, 'POST', '/v1/admin/reindex', { ...(key ? { key } : {}), body });

  it("requeues one user's failed memories, indexes them, and leaves other users' alone", async () => {
    const alice = await userWithFailures(2);
    const bob = await userWithFailures(1);
    const res = await reindex({ user_id: alice.userId });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body, { requeued: 2 });
    await eventually('alice indexed', async () =>
      (await states(alice)).every((s) => s === 'indexed'),
    );
    assert.deepEqual(await states(bob), ['failed']);
    assert.deepEqual((await reindex({ user_id: alice.userId })).body, { requeued: 0 });
  });

  it("requeues every user's failed memories when no user is named", async () => {
    const carol = await userWithFailures(1);
    const dave = await userWithFailures(2);
    const res = await reindex({});
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.ok(res.body.requeued >= 3, JSON.stringify(res.body));
    await eventually('everyone indexed', async () =>
      [...(await states(carol)), ...(await states(dave))].every((s) => s === 'indexed'),
    );
  });

  it('refuses a caller without the admin key, a malformed user id and an unknown user', async () => {
    const user = await userWithFailures(1);
    const anonymous = await reindex({ user_id: user.userId }, '');
    assert.equal(anonymous.status, 401);
    const userKey = await reindex({ user_id: user.userId }, 'not-the-admin-key-0000');
    assert.ok([401, 403].includes(userKey.status), String(userKey.status));
    const malformed = await reindex({ user_id: 'nobody' });
    assert.equal(malformed.status, 400);
    assert.match(JSON.stringify(malformed.body), /user_id/);
    const unknown = await reindex({ user_id: randomUUID() });
    assert.equal(unknown.status, 404);
    const extra = await reindex({ user: user.userId });
    assert.equal(extra.status, 400);
    assert.deepEqual(await states(user), ['failed'], 'nothing was requeued');
  });
});
