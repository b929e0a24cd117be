import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import type { Authenticator } from '../../api/route-registry.ts';
import { concurrencyLimitedAuthenticator } from '../../api/user-slots.ts';
import { AppError } from '../../core/errors.ts';
import { call, createUser, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Whether `promise` is still pending after `ms`. */
const pendingAfter = async (promise: Promise<unknown>, ms: number) =>
  (await Promise.race([promise.then(() => 'settled'), sleep(ms).then(() => 'pending')])) ===
  'pending';

describe("one user's requests run a few at a time; others never wait for them", () => {
  let engine: TestEngine;
  let api: TestApi;
  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine, { userConcurrency: 1 });
  });
  after(async () => {
    await api?.stop();
    await engine?.close();
  });

  it('holds a turn for a streamed import: the same user waits, another user does not', async () => {
    const [alice, bob] = [await createUser(api.url), await createUser(api.url)];
    let push!: (line: string | null) => void;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        push = (line) =>
          line === null ? controller.close() : controller.enqueue(new TextEncoder().encode(line));
      },
    });
    const upload = fetch(`${api.url}/v1/import`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alice.api_key}`, 'content-type': 'application/x-ndjson' },
      body,
      duplex: 'half',
    } as RequestInit);
    push('{"content":"a first imported line"}\n');
    await sleep(300);

    const aliceList = call(api.url, 'GET', '/v1/memories', { key: alice.api_key });
    assert.ok(await pendingAfter(aliceList, 300), "alice's next request waits for her turn");
    const bobList = await call(api.url, 'GET', '/v1/memories', { key: bob.api_key });
    assert.equal(bobList.status, 200, 'bob is served meanwhile');

    push('{"content":"a second imported line"}\n');
    push(null);
    const imported = await upload;
    assert.equal(imported.status, 200);
    assert.equal(((await imported.json()) as { created: number }).created, 2);
    const listed = await aliceList;
    assert.equal(listed.status, 200, 'then alice is served');
  });
});

describe('the per-user turn wrapper over HTTP', () => {
  let url: string;
  let closeServer: () => Promise<void>;
  const gates: (() => void)[] = [];
  let entered = 0;
  const auth: Authenticator = {
    user: async (req) => String(req.get('x-user')),
    admin: () => {},
  };
  const limited = concurrencyLimitedAuthenticator(auth, { slots: 1, queue: 1, waitMs: 400 });

  before(async () => {
    const app = express();
    app.get('/slow', async (req, res) => {
      try {
        await limited.user(req);
        entered++;
        await new Promise<void>((resolve) => gates.push(resolve));
        res.json({ ok: true });
      } catch (error) {
        const e = error as AppError;
        res.status(e.status).json({ error: { code: e.code, message: e.message } });
      }
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    closeServer = () => new Promise((resolve) => server.close(() => resolve()));
  });
  after(() => closeServer());

  const get = (user: string, signal?: AbortSignal) =>
    fetch(`${url}/slow`, { headers: { 'x-user': user }, ...(signal ? { signal } : {}) });
  const openGates = () => gates.splice(0).forEach((open) => open());

  it('refuses past the queue with 429 and Retry-After, and after the wait', async () => {
    const first = get('u');
    await sleep(100);
    const queued = get('u');
    await sleep(50);
    const refused = await get('u');
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '1');
    const body = (await refused.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'rate_limited');
    assert.match(body.error.message, /at most 1 run at once and 1 wait/);
    assert.equal((await queued).status, 429, 'the queued one waited 0.4 s, then was refused');
    openGates();
    assert.equal((await first).status, 200);
  });

  it('gives back the turn of a request whose client left while it waited, and runs nothing for it', async () => {
    entered = 0;
    const first = get('v');
    await sleep(100);
    const leaving = new AbortController();
    const gone = get('v', leaving.signal).catch(() => 'aborted');
    await sleep(50);
    leaving.abort();
    assert.equal(await gone, 'aborted');
    await sleep(50);
    openGates();
    assert.equal((await first).status, 200);
    await sleep(50);
    assert.equal(entered, 1, 'the abandoned request never reached its handler');
    const next = get('v');
    await sleep(100);
    assert.equal(entered, 2, 'the turn came back');
    openGates();
    assert.equal((await next).status, 200);
  });
});
