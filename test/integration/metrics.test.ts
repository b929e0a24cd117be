import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { freePort } from '../../infra/process/service-tools.ts';
import { createLogger } from '../../infra/logger.ts';
import { createMetrics } from '../../infra/metrics/metrics.ts';
import { installTemporalRuntime } from '../../infra/temporal/runtime-logger.ts';
import { deepPlan, planningResponder } from '../support/emulated-model.ts';
import { useMonitoredApp } from '../support/monitored-app.ts';
import { parseExposition as parse, sumSeries as valueOf } from '../support/prometheus-text.ts';
import { call, createUser } from '../support/test-api.ts';

const MB = 1024 * 1024;

const FAMILIES = [
  'memory_engine_http_request_duration_seconds',
  'memory_engine_classifier_decisions_total',
  'memory_engine_context_model_calls_total',
  'memory_engine_model_calls_total',
  'memory_engine_model_call_duration_seconds',
  'memory_engine_requests_shed_total',
  'memory_engine_cache_hits_total',
  'memory_engine_cache_misses_total',
  'memory_engine_cache_errors_total',
  'memory_engine_cache_evictions_total',
  'memory_engine_cache_expirations_total',
  'memory_engine_cache_bytes',
  'memory_engine_cache_entries',
  'memory_engine_cache_max_bytes',
  'memory_engine_memory_rss_bytes',
  'memory_engine_memory_heap_used_bytes',
  'memory_engine_memory_heap_total_bytes',
  'memory_engine_memory_external_bytes',
  'memory_engine_memory_budget_bytes',
  'memory_engine_memory_usage_ratio',
  'memory_engine_memory_shedding',
  'memory_engine_event_loop_delay_p99_seconds',
  'memory_engine_memory_alerts_total',
  'memory_engine_cache_clears_total',
  'memory_engine_cache_cleared_bytes_total',
  'memory_engine_narrative_queue_depth',
];

describe('GET /metrics on a running API with its worker', () => {
  const { api, at } = useMonitoredApp(async () => {
    // The Core runtime serves its metrics on loopback; /metrics appends them.
    const { metricsUrl } = installTemporalRuntime(createLogger('silent'), {
      prometheusBindAddress: `127.0.0.1:${await freePort()}`,
    });
    return {
      responder: planningResponder(deepPlan(['marathon training plan'])),
      budgetMb: 1000,
      usagePct: 40,
      metrics: createMetrics({
        narrativeQueueDepth: async () => 3,
        ...(metricsUrl ? { temporalMetricsUrl: metricsUrl } : {}),
      }),
    };
  });
  let key: string;

  const scrape = async () => {
    const res = await fetch(`${api.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    return parse(await res.text());
  };
  const ask = (message: string) => call(api.url, 'POST', '/v1/context', { key, body: { message } });

  before(async () => {
    key = (await createUser(api.url)).api_key;
  });

  it('exposes every family the product promises, in Prometheus text format', async () => {
    const { families } = await scrape();
    for (const name of FAMILIES) assert.ok(families.has(name), `missing family ${name}`);
    assert.equal(families.get('memory_engine_http_request_duration_seconds'), 'histogram');
    assert.equal(families.get('memory_engine_cache_hits_total'), 'counter');
  });

  it('counts context requests by route pattern and message class, and classifier decisions', async () => {
    const before = (await scrape()).values;
    const series = (cls: string) => ({
      route: '/v1/context',
      message_class: cls,
      status_code: '200',
    });
    const httpCount = 'memory_engine_http_request_duration_seconds_count';

    assert.equal((await ask("what's my dog's name?")).status, 200);
    assert.equal(
      (await ask('How should I adapt my training given how my knee has been lately?')).status,
      200,
    );
    const res = await call(api.url, 'POST', '/v1/context', {
      key,
      body: { message: 'hello again', is_new_conversation: true },
    });
    assert.equal(res.status, 200);
    const memory = await call(api.url, 'GET', '/v1/memories/00000000-0000-0000-0000-000000000000', {
      key,
    });

    const now = (await scrape()).values;
    for (const cls of ['simple', 'complex', 'new_conversation']) {
      assert.equal(
        valueOf(now, httpCount, series(cls)) - valueOf(before, httpCount, series(cls)),
        1,
        `one ${cls} context request`,
      );
    }
    // The greeting opened a new conversation: class `new_conversation` on the histogram; the
    // classifier calls it simple (it is answered from the narrative and recent memories).
    assert.equal(res.body.plan.class, 'simple');
    const decisions = 'memory_engine_classifier_decisions_total';
    for (const [cls, count] of [
      ['simple', 2],
      ['complex', 1],
      ['none', 0],
    ] as const) {
      assert.equal(
        valueOf(now, decisions, { class: cls }) - valueOf(before, decisions, { class: cls }),
        count,
        `${count} ${cls} classifier decision(s)`,
      );
    }
    // Other routes are labelled by their pattern, never the raw URL, with class `none`.
    assert.equal(
      valueOf(now, httpCount, {
        route: '/v1/memories/:id',
        message_class: 'none',
        status_code: String(memory.status),
      }),
      1,
    );
    assert.ok(![...now.keys()].some((s) => s.includes('00000000-0000')));
  });

  it('counts model calls from the instrumented model and from context results', async () => {
    const { values } = await scrape();
    assert.ok(valueOf(values, 'memory_engine_model_calls_total', { outcome: 'ok' }) >= 1);
    assert.ok(
      valueOf(values, 'memory_engine_model_call_duration_seconds_count', { outcome: 'ok' }) >= 1,
    );
    assert.equal(
      valueOf(values, 'memory_engine_context_model_calls_total', { plan_source: 'model' }),
      1,
    );
  });

  it('reads cache hits and misses per cache and tier from the caches themselves', async () => {
    const message = 'What patterns do you see in how my running has changed this year?';
    await ask(message);
    const before = (await scrape()).values;
    await ask(message);
    const now = (await scrape()).values;
    const hits = (v: Map<string, number>, cache: string) =>
      valueOf(v, 'memory_engine_cache_hits_total', { cache, tier: 'l1' });
    assert.equal(hits(now, 'plan') - hits(before, 'plan'), 1);
    assert.equal(hits(now, 'search') - hits(before, 'search'), 1);
    assert.ok(valueOf(now, 'memory_engine_cache_bytes', { cache: 'plan', tier: 'l1' }) > 0);
    assert.equal(
      valueOf(now, 'memory_engine_cache_hits_total', { cache: 'plan', tier: 'l1' }),
      api.engine.caches.plan.stats().l1?.hits,
    );
  });

  it('reports memory, alerts, cache clears and refusals from the monitor', async () => {
    const bytes = api.engine.caches.search.bytes() + api.engine.caches.plan.bytes();
    assert.ok(bytes > 0);
    at(95);
    const refused = await ask('Why do I keep losing motivation for my long weekend runs lately?');
    assert.equal(refused.status, 503);
    const { values } = await scrape();
    assert.equal(valueOf(values, 'memory_engine_memory_rss_bytes', {}), 950 * MB);
    assert.equal(valueOf(values, 'memory_engine_memory_budget_bytes', {}), 1000 * MB);
    assert.equal(valueOf(values, 'memory_engine_memory_usage_ratio', {}), 0.95);
    assert.equal(valueOf(values, 'memory_engine_memory_shedding', {}), 1);
    for (const level of ['60', '75', '85']) {
      assert.equal(valueOf(values, 'memory_engine_memory_alerts_total', { level }), 1);
    }
    const cleared =
      valueOf(values, 'memory_engine_cache_cleared_bytes_total', { cache: 'search' }) +
      valueOf(values, 'memory_engine_cache_cleared_bytes_total', { cache: 'plan' });
    assert.equal(cleared, bytes);
    assert.equal(valueOf(values, 'memory_engine_cache_clears_total', { cache: 'plan' }), 1);
    assert.equal(valueOf(values, 'memory_engine_requests_shed_total', { route: '/v1/context' }), 1);
    assert.equal(valueOf(values, 'memory_engine_narrative_queue_depth', {}), 3);
    at(40);
  });

  it("appends the Temporal runtime's worker metrics, with no family declared twice", async () => {
    const text = await (await fetch(`${api.url}/metrics`)).text();
    const declared = text.split('\n').filter((line) => line.startsWith('# TYPE '));
    assert.equal(new Set(declared.map((line) => line.split(' ')[2])).size, declared.length);
    const { families } = parse(text);
    const temporal = [...families.keys()].filter((name) => name.startsWith('temporal_'));
    assert.ok(temporal.length > 0, 'temporal_* families present');
    assert.ok(
      temporal.some((name) => /worker|poll|slot/.test(name)),
      `worker metrics among ${temporal.join(', ')}`,
    );
  });
});
