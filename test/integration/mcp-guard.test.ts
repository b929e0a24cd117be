import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import express from 'express';
import { createAuthenticator } from '../../api/auth.ts';
import { dashboardRoutes } from '../../api/dashboard.routes.ts';
import { errorHandler } from '../../api/errors.ts';
import { createMcpRoutes } from '../../api/mcp/mcp-routes.ts';
import { apiSchemas } from '../../api/schemas.ts';
import { startServer, type RunningServer } from '../../api/server.ts';
import { metricsRoutes } from '../../api/metrics.routes.ts';
import { createLogger } from '../../infra/logger.ts';
import { createMetrics } from '../../infra/metrics/metrics.ts';
import { ADMIN_KEY, createUser, startTestApi, type TestApi } from '../support/test-api.ts';
import { createTestEngine, type TestEngine } from '../support/test-engine.ts';
import { edgeApp } from '../support/edge-app.ts';

const INITIALIZE = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: {
    protocolVersion: '2025-06-18',
    capabilities: {},
    clientInfo: { name: 'mcp-guard-test', version: '1.0.0' },
  },
};
const TOOLS_LIST = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

/** One raw request to /mcp; the body is read to the end (an SSE answer included). */
async function mcp(
  url: string,
  init: { method?: string; key: string; body?: unknown; headers?: Record<string, string> },
  query = '',
): Promise<{ status: number; text: string; session: string | null }> {
  const res = await fetch(`${url}/mcp${query}`, {
    method: init.method ?? 'POST',
    headers: {
      authorization: `Bearer ${init.key}`,
      accept: 'application/json, text/event-stream',
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...init.headers,
    },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: res.status, text: await res.text(), session: res.headers.get('mcp-session-id') };
}

async function openSession(url: string, key: string): Promise<string> {
  const res = await mcp(url, { key, body: INITIALIZE });
  assert.equal(res.status, 200, res.text);
  assert.ok(res.session, 'a session id comes back');
  return res.session;
}

/** DELETE answers 200 for an open session of this key's user, 404 for a closed one. */
const sessionStatus = async (url: string, key: string, session: string) =>
  (await mcp(url, { method: 'DELETE', key, headers: { 'mcp-session-id': session } })).status;

/** A request with a `Host` of our choosing (fetch does not let one set it). */
function withHost(url: string, host: string, key: string): Promise<{ status: number; body: any }> {
  const target = new URL(`${url}/mcp?stateless`);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        headers: {
          host,
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: safeJson(text) }));
      },
    );
    req.on('error', reject);
    req.end(JSON.stringify(TOOLS_LIST));
  });
}

const safeJson = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
};

describe('MCP sessions per user and DNS-rebinding protection, on the real API', () => {
  let engine: TestEngine;
  let api: TestApi;
  let alice: string;
  let bob: string;

  before(async () => {
    engine = await createTestEngine('pglite');
    api = await startTestApi(engine, { worker: false });
    alice = (await createUser(api.url)).api_key;
    bob = (await createUser(api.url)).api_key;
  });
  after(async () => {
    await api?.stop();
    await engine?.close();
  });

  it("closes a user's oldest session when the 21st opens, and leaves another user's open", async () => {
    const bobs = await openSession(api.url, bob);
    const alices: string[] = [];
    for (let i = 0; i < 20; i++) alices.push(await openSession(api.url, alice));
    const latest = await openSession(api.url, alice);

    assert.equal(await sessionStatus(api.url, alice, alices[0]!), 404, 'the oldest was closed');
    assert.equal(await sessionStatus(api.url, alice, alices[1]!), 200, 'the next one is open');
    assert.equal(await sessionStatus(api.url, alice, latest), 200, 'the new one is open');
    assert.equal(await sessionStatus(api.url, bob, bobs), 200, "bob's session is untouched");
  });

  it('refuses a foreign Origin with a 403 JSON error, and lets loopback origins and no Origin pass', async () => {
    const foreign = await mcp(
      api.url,
      { key: alice, body: TOOLS_LIST, headers: { origin: 'https://evil.example' } },
      '?stateless',
    );
    assert.equal(foreign.status, 403);
    const body = JSON.parse(foreign.text);
    assert.equal(body.error.code, 'forbidden');
    assert.match(body.error.message, /Origin "https:\/\/evil\.example" may not call \/mcp/);
    assert.equal(
      (
        await mcp(
          api.url,
          { key: alice, body: TOOLS_LIST, headers: { origin: 'null' } },
          '?stateless',
        )
      ).status,
      403,
      'an opaque origin is foreign',
    );

    for (const origin of ['http://localhost:5173', 'http://127.0.0.1:3000', 'http://[::1]:8080']) {
      const res = await mcp(
        api.url,
        { key: alice, body: TOOLS_LIST, headers: { origin } },
        '?stateless',
      );
      assert.equal(res.status, 200, `${origin}: ${res.text}`);
    }
    assert.equal((await mcp(api.url, { key: alice, body: TOOLS_LIST }, '?stateless')).status, 200);
  });

  it('refuses a Host the server does not answer to, before authentication', async () => {
    const rebound = await withHost(api.url, 'attacker.example:8080', 'not-a-key');
    assert.equal(rebound.status, 403);
    assert.equal(rebound.body.error.code, 'forbidden');
    assert.match(rebound.body.error.message, /MCP_ALLOWED_HOSTS/);
    assert.equal((await withHost(api.url, 'localhost:1234', alice)).status, 200);
  });

  describe('with MCP_ALLOWED_ORIGINS and MCP_ALLOWED_HOSTS', () => {
    let server: RunningServer;
    let close: () => Promise<void>;

    before(async () => {
      const router = createMcpRoutes({
        engine: api.engine,
        schemas: apiSchemas({ maxMemoryChars: 5000, maxTags: 10 }),
        auth: createAuthenticator(engine.store, ADMIN_KEY),
        allowedOrigins: ['https://chat.example.com'],
        allowedHosts: ['memory.example.com'],
      });
      const app = edgeApp({
        mcp: router,
      });
      server = await startServer(app, '127.0.0.1', 0);
      close = async () => {
        await router.close();
        await server.stop();
      };
    });
    after(() => close?.());

    it('lets the listed origin and hosts through, and still refuses others', async () => {
      const listed = {
        key: alice,
        body: TOOLS_LIST,
        headers: { origin: 'https://chat.example.com' },
      };
      assert.equal((await mcp(server.url, listed, '?stateless')).status, 200);
      const other = { ...listed, headers: { origin: 'https://chat.example.com.evil.example' } };
      assert.equal((await mcp(server.url, other, '?stateless')).status, 403);
      assert.equal((await withHost(server.url, 'memory.example.com', alice)).status, 200);
      assert.equal((await withHost(server.url, 'chat.example.com', alice)).status, 200);
      assert.equal((await withHost(server.url, 'other.example.com', alice)).status, 403);
    });
  });
});

describe('operational routes with OPS_TOKEN set', () => {
  const TOKEN = 'ops-token-0123456789abcdef';
  let server: RunningServer;

  before(async () => {
    // The routes as createApp mounts them, given the token.
    const app = express();
    const metrics = createMetrics({ defaultMetrics: false });
    app.use(dashboardRoutes({ memoryBudgetMb: 2048, metrics, opsToken: TOKEN }));
    app.use(metricsRoutes(metrics, { opsToken: TOKEN }));
    app.use(errorHandler(createLogger('silent')));
    server = await startServer(app, '127.0.0.1', 0);
  });
  after(() => server?.stop());

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${server.url}${path}`, { headers, redirect: 'manual' });

  it('refuses /metrics, /status and /dashboard/data without the token, with a 401 JSON error', async () => {
    for (const path of ['/metrics', '/status', '/dashboard', '/dashboard/data']) {
      for (const headers of [{}, { authorization: 'Bearer not-the-ops-token-000' }] as Record<
        string,
        string
      >[]) {
        const res = await get(path, headers);
        assert.equal(res.status, 401, path);
        const body = (await res.json()) as any;
        assert.equal(body.error.code, 'unauthorized');
        assert.match(body.error.message, /Authorization: Bearer <OPS_TOKEN>/);
      }
    }
  });

  it('serves them to Authorization: Bearer <OPS_TOKEN>', async () => {
    const bearer = { authorization: `Bearer ${TOKEN}` };
    const scraped = await get('/metrics', bearer);
    assert.equal(scraped.status, 200);
    assert.match(await scraped.text(), /memory_engine_http_request_duration_seconds/);
    assert.equal((await get('/status', bearer)).status, 200);
    assert.equal((await get('/dashboard/data', bearer)).status, 200);
  });

  it('lets a browser in with /dashboard?token=: a cookie for the page and its polls, the token gone from the URL', async () => {
    assert.equal((await get('/dashboard?token=wrong-token-0000000000')).status, 401);
    const login = await get(`/dashboard?token=${TOKEN}`);
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/dashboard');
    const setCookie = login.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /^ops_session=[^;]+;.*Path=\/dashboard/);
    assert.match(setCookie, /HttpOnly/);
    assert.match(setCookie, /SameSite=Strict/);
    assert.ok(!setCookie.includes(TOKEN), 'the cookie is not the token itself');
    const cookie = setCookie.split(';')[0]!;

    const page = await get('/dashboard', { cookie });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /html/);
    assert.equal((await get('/dashboard/data', { cookie })).status, 200);
    assert.equal(
      (await get('/metrics', { cookie })).status,
      401,
      'the cookie is for the dashboard',
    );
  });
});
