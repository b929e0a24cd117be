import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createMemoryMonitor, type MemoryEvent } from '../../infra/monitoring/memory-monitor.ts';
import { deepPlan, planningResponder } from '../support/emulated-model.ts';
import { useMonitoredApp } from '../support/monitored-app.ts';
import { createUser, saveIndexed } from '../support/test-api.ts';

const MB = 1024 * 1024;
const BUDGET_MB = 2048;
const CACHED_COMPLEX = 'How should I adapt my marathon training given how my knee has been lately?';
const UNCACHED_COMPLEX = 'What patterns do you see in how my running has changed this year?';
const SIMPLE = "what's my dog's name?";

/** A webhook receiver on loopback that keeps every JSON body it is sent. */
async function startWebhook() {
  const received: { event: MemoryEvent }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push(JSON.parse(body) as { event: MemoryEvent });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/alerts`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('memory monitor on a running API, driven by an induced memory ramp', () => {
  // Hooks run in the order they are registered: the webhook starts before the app and stops after it.
  let webhook: Awaited<ReturnType<typeof startWebhook>>;
  before(async () => {
    webhook = await startWebhook();
  });
  const { emulator, api, monitor, at } = useMonitoredApp(async () => ({
    responder: planningResponder(deepPlan(['marathon training plan', 'knee pain'])),
    budgetMb: BUDGET_MB,
    // The injected reading: RSS at this percentage of the budget.
    usagePct: 50,
    webhookUrl: webhook.url,
  }));
  let key: string;

  const request = async (path: string, body?: unknown) => {
    const res = await fetch(`${api.url}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  };
  const ask = (message: string) => request('/v1/context', { message });

  before(async () => {
    key = (await createUser(api.url)).api_key;
    for (const content of [
      "My dog's name is Biscuit, a golden retriever",
      'I am training for the Berlin marathon in September',
      'My left knee hurts after long runs',
    ]) {
      await saveIndexed(api.url, key, content);
    }
  });

  after(async () => {
    await webhook?.close();
  });

  it('says the memory usage on every response, errors and health checks included', async () => {
    for (const res of [
      await request('/healthz'),
      await request('/no/such/route'),
      await ask(SIMPLE),
    ]) {
      assert.equal(res.headers.get('x-memory-usage'), '1024/2048 MB (50%)');
    }
  });

  it('clears the search cache, then the plan cache, once usage reaches 81 %', async () => {
    assert.equal((await ask(CACHED_COMPLEX)).body.plan.source, 'model');
    assert.equal((await ask(CACHED_COMPLEX)).body.cache.search, 'l1');
    await api.engine.caches.plan.flush();
    const held = {
      search: api.engine.caches.search.bytes(),
      plan: api.engine.caches.plan.bytes(),
    };
    assert.ok(held.search > 0 && held.plan > 0, 'both caches hold entries before the ramp');

    const sample = at(81);
    assert.equal(sample.usagePct, 81);
    assert.equal(api.engine.caches.search.stats().lru?.entries, 0);
    assert.equal(api.engine.caches.plan.stats().lru?.entries, 0);
    const relief = monitor.history().find((e) => e.kind === 'relief');
    assert.ok(relief && relief.kind === 'relief');
    assert.deepEqual(Object.keys(relief.freed), ['search', 'plan']);
    assert.deepEqual(relief.freed, held);
    assert.equal(relief.freed_bytes, held.search + held.plan);
    assert.deepEqual(monitor.stats().bytesFreed, held);
    assert.deepEqual(
      monitor
        .history()
        .filter((e) => e.kind === 'alert')
        .map((e) => (e.kind === 'alert' ? e.level : 0)),
      [60, 75],
    );
  });

  it('refuses an uncached complex query at 91 % with 503 and Retry-After', async () => {
    at(91);
    assert.equal(monitor.admitHeavy(), false);
    const refused = await ask(UNCACHED_COMPLEX);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers.get('retry-after'), '5');
    assert.equal(refused.body.error.code, 'overloaded');
    assert.match(refused.body.error.message, /short of memory/);
    assert.equal(refused.headers.get('x-memory-usage'), '1864/2048 MB (91%)');
  });

  it('keeps serving simple queries, cached complex queries and health checks at 91 %', async () => {
    const simple = await ask(SIMPLE);
    assert.equal(simple.status, 200);
    assert.match(simple.body.context, /Biscuit/);

    // L1 was cleared; the plan comes from the durable tier, so no model call is needed.
    emulator.resetStats();
    const cached = await ask(CACHED_COMPLEX);
    assert.equal(cached.status, 200);
    assert.equal(cached.body.plan.source, 'cache');
    assert.equal(cached.body.cache.plan, 'l3');
    assert.equal(cached.body.model_calls, 0);
    assert.equal(emulator.stats().generateContent.calls, 0);

    const health = await request('/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.headers.get('x-memory-usage'), '1864/2048 MB (91%)');
  });

  it('posts every alert, the relief and the shedding change to the webhook, once each', async () => {
    at(92);
    at(89);
    at(91);
    await monitor.flushWebhooks();
    const seen = webhook.received.map(({ event }) =>
      event.kind === 'alert'
        ? `alert ${event.level}`
        : event.kind === 'shedding'
          ? `shedding ${event.active}`
          : 'relief',
    );
    // Queries served at 91 % refilled the caches and 92 % cleared them again: counted and kept
    // in the history, but only the first clear of the episode is announced.
    assert.deepEqual(seen, ['alert 60', 'alert 75', 'relief', 'alert 85', 'shedding true']);
    assert.equal(monitor.stats().reliefs, 2);
    assert.equal(monitor.history().filter((e) => e.kind === 'relief').length, 2);
    assert.deepEqual(monitor.stats().alerts, { 60: 1, 75: 1, 85: 1 });
  });

  it('accepts complex queries again once usage falls back under the shedding margin', async () => {
    at(84);
    const res = await ask(UNCACHED_COMPLEX);
    assert.equal(res.status, 200);
    assert.equal(res.body.plan.source, 'model');
    await monitor.flushWebhooks();
    assert.equal(webhook.received.at(-1)?.event.kind, 'shedding');
  });
});

describe('memory alert webhook that is down', () => {
  it('logs the failed delivery and carries on: sampling never throws', async () => {
    const webhook = await startWebhook();
    const url = webhook.url;
    await webhook.close();
    const lines: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    let pct = 50;
    const monitor = createMemoryMonitor({
      budgetMb: 100,
      logger,
      readMemory: () => ({ rss: pct * MB, heapUsed: 0, heapTotal: 0, external: 0 }),
      webhookUrl: url,
      webhookTimeoutMs: 5_000,
    });
    pct = 70;
    assert.equal(monitor.sampleNow().usagePct, 70);
    await monitor.flushWebhooks();
    assert.equal(monitor.stats().webhookFailures, 1);
    assert.deepEqual(monitor.stats().alerts, { 60: 1, 75: 0, 85: 0 });
    assert.ok(lines.some((l) => /memory crossed 60% of budget/.test(l)));
    assert.ok(lines.some((l) => /memory alert webhook failed/.test(l)));
  });
});
