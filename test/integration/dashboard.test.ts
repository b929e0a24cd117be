import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createApp } from '../../api/app.ts';
import { startServer } from '../../api/server.ts';
import { createLogger } from '../../infra/logger.ts';
import { createMetrics } from '../../infra/metrics/metrics.ts';
import { deepPlan, planningResponder } from '../support/emulated-model.ts';
import { useMonitoredApp } from '../support/monitored-app.ts';
import { parseExposition, sumSeries as sum } from '../support/prometheus-text.ts';
import { call, createUser, eventually } from '../support/test-api.ts';
import { requireTestEnv } from '../support/test-env.ts';

const MB = 1024 * 1024;
const BUDGET_MB = 1000;
const COMPLEX = 'How should I adapt my training given how my knee has been lately?';
const SIMPLE = "what's my dog's name?";
// The page polls every 2 s; a few polls is plenty.
const PAGE_DEADLINE_MS = 15_000;

/** `/metrics` as `name{labels}` -> value. */
async function scrape(url: string): Promise<Map<string, number>> {
  return parseExposition(await (await fetch(`${url}/metrics`)).text()).values;
}

describe('GET /dashboard in headless Chromium, over a running API with metrics and a monitor', () => {
  let browser: Browser;
  let page: Page;
  let key: string;
  const requested: string[] = [];
  const pageErrors: string[] = [];
  // Registered before the app's hooks, so the page stops polling before the API stops.
  after(async () => {
    await browser?.close();
  });
  const { api, at } = useMonitoredApp({
    responder: planningResponder(deepPlan(['marathon training plan'])),
    budgetMb: BUDGET_MB,
    usagePct: 40,
    // No narrative queue source: the page must say the depth is unknown.
    metrics: createMetrics({ defaultMetrics: false }),
  });

  const text = async (selector: string) => ((await page.textContent(selector)) ?? '').trim();
  const waitForText = async (selector: string, expected: string) => {
    await eventually(
      `${selector} shows ${expected}`,
      async () => (await page.textContent(selector))?.trim() === expected,
      PAGE_DEADLINE_MS,
    );
  };
  const ask = (message: string) => call(api.url, 'POST', '/v1/context', { key, body: { message } });

  before(async () => {
    key = (await createUser(api.url)).api_key;

    browser = await chromium.launch({
      executablePath: requireTestEnv('TEST_CHROMIUM_PATH'),
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on('request', (request) => requested.push(request.url()));
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    await page.goto(`${api.url}/dashboard`);
  });

  it('shows readiness and memory against the budget within a few polls', async () => {
    await page.waitForSelector('body[data-loaded="true"]', { timeout: PAGE_DEADLINE_MS });
    const values = await scrape(api.url);
    const rssMb = sum(values, 'memory_engine_memory_rss_bytes') / MB;
    assert.equal(rssMb, 400);
    await waitForText('#mem-used', `${rssMb} MB`);
    assert.equal(await text('#mem-pct'), '40 %');
    assert.equal(await text('#mem-budget'), `of ${BUDGET_MB} MB budget`);
    assert.equal(await page.getAttribute('#mem-pct', 'class'), 'big sev0');
    assert.match(await text('#mem-state'), /Below every alert level \(first at 60 %\)/);
    assert.match(await text('#mem-legend'), /Alerts at 60 \/ 75 \/ 85 %.*80 %.*90 %/);
    assert.equal(await text('#ready'), 'ready');
    assert.equal(await text('#queue'), 'unknown');
    assert.equal(await text('#events'), 'No alerts since start');
  });

  it('shows request counts, latency, cache hit rates and model calls that agree with /metrics', async () => {
    for (const message of [COMPLEX, COMPLEX, SIMPLE])
      assert.equal((await ask(message)).status, 200);
    const values = await scrape(api.url);
    const count = 'memory_engine_http_request_duration_seconds_count';
    const complex = sum(values, count, { route: '/v1/context', message_class: 'complex' });
    const simple = sum(values, count, { route: '/v1/context', message_class: 'simple' });
    assert.deepEqual([complex, simple], [2, 1]);

    const row = (cls: string) => `#latency tr[data-route="/v1/context"][data-class="${cls}"]`;
    await waitForText(`${row('complex')} td.count`, String(complex));
    assert.equal(await text(`${row('simple')} td.count`), String(simple));
    const percentiles = await page.$$eval(`${row('complex')} td.num`, (cells) =>
      cells.slice(1).map((cell) => cell.textContent),
    );
    assert.equal(percentiles.length, 3);
    for (const p of percentiles) assert.match(p ?? '', /^\d+(\.\d+)? m?s$/);

    // Every figure below was fixed by the requests above, so one read of each side compares.
    for (const cache of ['plan', 'search']) {
      const hits = sum(values, 'memory_engine_cache_hits_total', { cache, tier: 'l1' });
      const misses = sum(values, 'memory_engine_cache_misses_total', { cache, tier: 'l1' });
      assert.ok(hits >= 1, `${cache} cache answered the repeated question`);
      const shown = await text(`.cache[data-cache="${cache}"] [data-tier="l1"] .rate`);
      assert.equal(shown, `${Math.round((100 * hits) / (hits + misses))} %`);
    }
    const modelCalls = sum(values, 'memory_engine_model_calls_total');
    assert.ok(modelCalls >= 1);
    await eventually(
      'the model-call rate is measured',
      async () => /^\d+(\.\d+)?$/.test(await text('#model-rate')),
      PAGE_DEADLINE_MS,
    );
    assert.match(
      await text('#model-note'),
      new RegExp(`${modelCalls} calls? since start, 0 failed`),
    );
    const total = Number((await text('#requests')).replace(/,/g, ''));
    assert.ok(total >= complex + simple + 1, `${total} requests counted`);
  });

  it('follows a memory ramp live: colour, relief, shedding and the alert history', async () => {
    assert.ok(api.engine.caches.plan.bytes() > 0, 'the plan cache holds entries to clear');
    at(65);
    at(92);
    await waitForText('#mem-pct', '92 %');
    assert.equal(await text('#mem-used'), '920 MB');
    assert.equal(await page.getAttribute('#mem-pct', 'class'), 'big sev3');
    const state = await text('#mem-state');
    assert.match(state, /Shedding: uncached complex queries get 503 \(from 90 %\)/);
    assert.match(state, /Relief: caches are being cleared \(from 80 %\)/);
    assert.match(state, /Above the 85 % alert level/);
    const events = await page.$$eval('#events li .text', (items) =>
      items.map((item) => item.textContent),
    );
    assert.deepEqual(events, [
      'Shedding started at 92 %',
      events[1],
      'Crossed 85 % (920 of 1000 MB)',
      'Crossed 75 % (920 of 1000 MB)',
      'Crossed 60 % (650 of 1000 MB)',
    ]);
    assert.match(events[1] ?? '', /^Cleared caches at 92 %: search \d+ [KM]?B, plan \d+ [KM]?B$/);

    at(76);
    await waitForText('#mem-pct', '76 %');
    assert.equal(await page.getAttribute('#mem-pct', 'class'), 'big sev2');
    assert.match(await text('#events li:first-child .text'), /Shedding stopped at 76 %/);
  });

  it('loads nothing but its own origin and runs without script errors', async () => {
    const origin = new URL(api.url).origin;
    assert.ok(requested.length > 3, 'the page polled');
    const foreign = requested.filter((url) => new URL(url).origin !== origin);
    assert.deepEqual(foreign, []);
    const paths = new Set(requested.map((url) => new URL(url).pathname));
    assert.deepEqual([...paths].sort(), ['/dashboard', '/dashboard/data', '/readyz']);
    assert.deepEqual(pageErrors, []);
  });

  it('renders a screenshot of the whole page', async () => {
    const dir =
      process.env.DASHBOARD_SCREENSHOT_DIR ??
      process.env.TEST_RUN_DIR ??
      (await fs.mkdtemp(path.join(os.tmpdir(), 'dashboard-')));
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, 'dashboard.png');
    await page.screenshot({ path: file, fullPage: true });
    const png = await fs.readFile(file);
    assert.ok(png.length > 10_000, `${file} holds ${png.length} bytes`);
    assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  });
});

describe('GET /dashboard/data on an app built without metrics or a monitor', () => {
  it('reads memory from the process and says the other figures are unknown', async () => {
    const app = createApp({
      logger: createLogger('silent'),
      readinessChecks: [],
      readinessTimeoutMs: 1000,
      bodyLimitKb: 16,
      memoryBudgetMb: 4096,
    });
    const server = await startServer(app, '127.0.0.1', 0);
    try {
      const res = await fetch(`${server.url}/dashboard/data`);
      assert.equal(res.status, 200);
      const data = (await res.json()) as any;
      assert.equal(data.memory.source, 'process');
      assert.ok(data.memory.rss_bytes > 0);
      assert.equal(data.memory.budget_bytes, 4096 * MB);
      assert.deepEqual(data.memory.thresholds, {
        alert_levels: [60, 75, 85],
        clear_at: 80,
        shed_at: 90,
        margin: 5,
      });
      assert.equal(data.requests, null);
      assert.equal(data.caches, null);
      assert.equal(data.model_calls, null);
      assert.equal(data.narrative_queue_depth, null);
      assert.deepEqual(data.recent_events, []);
    } finally {
      await server.stop();
    }
  });
});
