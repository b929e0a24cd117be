import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/activity';
import { loopbackTarget } from '../../activities/loadtest-activities.ts';
import { analyze } from '../../loadtest/analyze.ts';
import { SEED_ASSUMPTIONS, fitCpu, projectCapacity } from '../../loadtest/capacity.ts';
import { hitRate, measureChat, type ContextSample } from '../../loadtest/chat-recorder.ts';
import { histogramOf, summarizeLatencies } from '../../loadtest/histogram.ts';
import { renderMarkdown } from '../../loadtest/render.ts';
import { createMessagePicker, runSession } from '../../loadtest/session.ts';
import {
  createUsageTracker,
  parseMemoryHeader,
  snapshotFromMetrics,
} from '../../loadtest/target-readings.ts';
import type {
  ChatMeasurement,
  LoadTestMeasurements,
  RampMeasurement,
  SaveMeasurement,
  TargetUsage,
} from '../../loadtest/types.ts';
import { LOAD_REPORT_HEADINGS } from '../support/load-report-headings.ts';

const usage = (over: Partial<TargetUsage> = {}): TargetUsage => ({
  rssStartMb: 400,
  rssPeakMb: 500,
  rssEndMb: 480,
  budgetMb: 2048,
  cpuSeconds: 30,
  ...over,
});

const latency = (p95: number) => ({
  count: 100,
  p50: p95 / 2,
  p95,
  p99: p95,
  mean: p95 / 2,
  max: p95,
});

/** 100 sessions for 60 s: 3000 requests, 600 model calls, 30 CPU s, RSS +100 MB. */
function chat(over: Partial<ChatMeasurement> = {}): ChatMeasurement {
  return {
    sessions: 100,
    users: 100,
    durationMs: 60_000,
    requests: 3000,
    errors: 0,
    errorKinds: {},
    latency: { count: 3000, p50: 80, p95: 400, p99: 700, mean: 120, max: 900 },
    histogram: histogramOf([]),
    byKind: {
      simple: { ...latency(60), errors: 0 },
      complex: { ...latency(500), errors: 0 },
      new_conversation: { ...latency(100), errors: 0 },
    },
    stages: [
      { stage: 'plan', meanMs: 40, tailMeanMs: 300, tailShare: 0.6 },
      { stage: 'retrieve', meanMs: 20, tailMeanMs: 100, tailShare: 0.2 },
      { stage: 'assemble', meanMs: 5, tailMeanMs: 40, tailShare: 0.08 },
      { stage: 'other', meanMs: 5, tailMeanMs: 20, tailShare: 0.04 },
      { stage: 'queue', meanMs: 10, tailMeanMs: 40, tailShare: 0.08 },
    ],
    cache: { plan: { l1: 600, miss: 900, off: 1500 }, search: { l1: 900, miss: 2100 } },
    planSources: { classifier: 1050, cache: 600, model: 600, heuristic: 750 },
    modelCalls: 600,
    modelPlan: { count: 600, meanMs: 1500 },
    uncachedRetrieve: { count: 2100, meanMs: 25 },
    simple: { sent: 1000, bypassed: 930 },
    narrative: { usersAsked: 80, usersServed: 76 },
    target: usage(),
    ...over,
  };
}

const saves = (over: Partial<SaveMeasurement> = {}): SaveMeasurement => ({
  count: 50,
  concurrency: 50,
  durationMs: 2000,
  errors: 0,
  errorKinds: {},
  created: 50,
  latency: latency(300),
  histogram: histogramOf([]),
  target: usage({ cpuSeconds: 1 }),
  ...over,
});

const ramp = (over: Partial<RampMeasurement> = {}): RampMeasurement => ({
  thresholdMs: 1000,
  steps: [
    {
      sessions: 50,
      measurement: chat({
        sessions: 50,
        requests: 1500,
        durationMs: 30_000,
        target: usage({ rssPeakMb: 440 }),
      }),
    },
    {
      sessions: 150,
      measurement: chat({
        sessions: 150,
        requests: 3000,
        durationMs: 30_000,
        latency: { count: 3000, p50: 600, p95: 1400, p99: 2000, mean: 700, max: 2500 },
        target: usage({ rssPeakMb: 520 }),
      }),
    },
  ],
  stoppedBecause: 'threshold',
  sustainedSessions: 50,
  target: usage({ rssPeakMb: 520 }),
  ...over,
});

function measurements(over: Partial<LoadTestMeasurements> = {}): LoadTestMeasurements {
  return {
    workflowId: 'loadtest-2026-11-26T12-00-00-000Z',
    target: 'http://127.0.0.1:8080',
    startedAt: '2026-11-26T12:00:00.000Z',
    finishedAt: '2026-11-26T12:05:00.000Z',
    settings: { users: 100 },
    prepare: {
      users: Array.from({ length: 100 }, (_, index) => ({ id: `u${index}`, index })),
      seed: 1,
      memoriesPerUser: 20,
      memoriesCreated: 2000,
      memoriesIndexed: 2000,
      baseline: { rssMb: 400, budgetMb: 2048, cpuSecondsTotal: 12 },
    },
    chat: chat(),
    saves: saves(),
    ramp: ramp(),
    ...over,
  };
}

describe('latency figures', () => {
  it('summarizes nearest-rank percentiles and buckets latencies into a histogram', () => {
    const values = Array.from({ length: 100 }, (_, i) => i + 1);
    const s = summarizeLatencies(values);
    assert.equal(s.p50, 50);
    assert.equal(s.p95, 95);
    assert.equal(s.max, 100);
    assert.equal(s.mean, 50.5);
    const h = histogramOf([3, 7, 7, 40000]);
    assert.equal(h.counts[0], 1);
    assert.equal(h.counts[1], 2);
    assert.equal(h.counts.at(-1), 1);
    assert.equal(summarizeLatencies([]).p95, null);
  });
});

describe('chat measurement', () => {
  const sample = (over: Partial<ContextSample>): ContextSample => ({
    kind: 'complex',
    userId: 'u1',
    ms: 100,
    status: 200,
    answer: {
      plan: { source: 'model', class: 'complex' },
      timings: { classify: 0, plan: 80, retrieve: 10, assemble: 2, total: 95 },
      cache: { plan: 'miss', search: 'miss' },
      model_calls: 1,
      context: '',
    },
    ...over,
  });

  it('blames the stage that takes most of the slow tail, with queueing outside the handler', () => {
    const fast = Array.from({ length: 19 }, () =>
      sample({
        kind: 'simple',
        ms: 20,
        answer: {
          plan: { source: 'classifier', class: 'simple' },
          timings: { classify: 0, plan: 0, retrieve: 15, assemble: 1, total: 17 },
          cache: { plan: 'off', search: 'l1' },
          model_calls: 0,
        },
      }),
    );
    const slow = sample({ ms: 2000, answer: { ...sample({}).answer!, timings: { plan: 1500, retrieve: 100, assemble: 10, total: 1700 } } }); // prettier-ignore
    const m = measureChat(
      [...fast, slow, sample({ status: 503, error: 'overloaded', answer: undefined })],
      {
        sessions: 2,
        durationMs: 1000,
        target: usage(),
      },
    );
    assert.equal(m.stages[0]!.stage, 'plan');
    assert.equal(m.stages[0]!.tailMeanMs, 1500);
    assert.equal(m.stages.find((s) => s.stage === 'queue')!.tailMeanMs, 300);
    assert.equal(m.errors, 1);
    assert.deepEqual(m.errorKinds, { overloaded: 1 });
    assert.deepEqual(m.simple, { sent: 19, bypassed: 19 });
    assert.equal(m.modelCalls, 1);
    assert.equal(hitRate(m.cache.search), 0.95);
    assert.equal(hitRate(m.cache.plan), 0);
  });

  it('counts a user as covered when a new conversation opens with the precomputed narrative', () => {
    const m = measureChat(
      [
        sample({
          kind: 'new_conversation',
          userId: 'a',
          answer: { context: 'About the user:\nlikes tea' },
        }),
        sample({
          kind: 'new_conversation',
          userId: 'b',
          answer: { context: 'Relevant memories:\n- x' },
        }),
      ],
      { sessions: 2, durationMs: 1000, target: usage() },
    );
    assert.deepEqual(m.narrative, { usersAsked: 2, usersServed: 1 });
  });
});

describe('capacity projection', () => {
  it('projects each resource from the per-user costs the run measured', () => {
    const p = projectCapacity(measurements(), SEED_ASSUMPTIONS);
    const limit = (prefix: string) => p.resources.find((r) => r.resource.startsWith(prefix))!;
    // (2048 × 0.9 − 400) MB / (120 MB of growth to the peak / 150 sessions, the run's most).
    assert.equal(p.perUser.memoryMb, 0.8);
    assert.equal(limit('memory').limitUsers, 1804);
    // 10 CPU ms per request × 0.5 requests/s per user against 800 ms/s.
    assert.equal(p.perUser.cpuMsPerRequest, 10);
    assert.equal(limit('CPU').limitUsers, 160);
    // 0.2 calls per request × 30 requests/min against 1000/min.
    assert.equal(limit('model').limitUsers, 166);
    // 30 ms of store time per request × 0.5 requests/s against 20 connections.
    assert.equal(limit('database').limitUsers, 1333);
    // 20.5 vectors × (384 × 4 × 1.5 + 256) bytes against 1 GB and 4 GB.
    assert.equal(limit('vector index (Qdrant MICRO').limitUsers, 20460);
    assert.equal(limit('vector index (Qdrant SMALL').limitUsers, 81840);
    assert.deepEqual(p.firstLimit, { resource: limit('CPU').resource, users: 160 });
    assert.match(p.timeline[0]!, /≈160 concurrent users: CPU/);
  });

  it('says "not limiting" when the run measured no cost, and falls back to saturation throughput for CPU', () => {
    const p = projectCapacity(
      measurements({
        chat: chat({ modelCalls: 0, target: usage({ rssPeakMb: 390, cpuSeconds: null }) }),
        saves: saves({ target: usage({ rssPeakMb: 400 }) }),
        ramp: ramp({ target: usage({ rssPeakMb: 398 }), steps: [{ sessions: 50, measurement: chat({ sessions: 50, requests: 6000, durationMs: 30_000, target: usage({ rssPeakMb: 395 }) }) }] }), // prettier-ignore
      }),
      SEED_ASSUMPTIONS,
    );
    const row = (prefix: string) => p.resources.find((r) => r.resource.startsWith(prefix))!;
    assert.equal(row('model').notLimiting, true);
    assert.equal(row('model').limitUsers, null);
    assert.equal(row('memory').notLimiting, true);
    // 200 requests/s at saturation on 1 vCPU: 5 CPU ms per request.
    assert.equal(p.perUser.cpuSource, 'throughput at saturation');
    assert.equal(p.perUser.cpuMsPerRequest, 5);
    assert.equal(row('CPU').limitUsers, 320);
  });
});

describe('CPU fit over the ramp', () => {
  it('separates the CPU per request from background work, ignoring saturated steps', () => {
    const step = (rps: number, p95 = 200, backgroundMsPerS = 100) => ({
      sessions: rps,
      measurement: chat({
        sessions: rps,
        requests: rps * 10,
        durationMs: 10_000,
        latency: { count: rps * 10, p50: p95 / 2, p95, p99: p95, mean: p95 / 2, max: p95 },
        // 100 ms/s in the background plus 5 ms per request.
        target: usage({ cpuSeconds: ((backgroundMsPerS + 5 * rps) * 10) / 1000 }),
      }),
    });
    const r = ramp({ steps: [step(10), step(20), step(40), step(45, 5000)] });
    assert.deepEqual(fitCpu(r), { msPerRequest: 5, backgroundMsPerS: 100 });
    const p = projectCapacity(measurements({ ramp: r }), SEED_ASSUMPTIONS);
    assert.equal(p.perUser.cpuSource, 'process_cpu_seconds_total, fitted over the ramp');
    // (800 − 100) ms/s / (5 ms × 0.5 requests/s per user).
    assert.equal(p.resources.find((x) => x.resource.startsWith('CPU'))!.limitUsers, 280);
    // Projected for users who send 6 messages a minute instead: (800 − 100) / (5 × 0.1).
    const calm = projectCapacity(measurements({ ramp: r }), {
      ...SEED_ASSUMPTIONS,
      userRequestsPerMinute: 6,
    });
    assert.equal(calm.resources.find((x) => x.resource.startsWith('CPU'))!.limitUsers, 1400);
    assert.equal(fitCpu(ramp()), null, 'two steps are too few to fit');
    const busy = ramp({ steps: [step(10, 200, 400), step(20, 200, 400), step(40, 200, 400)] });
    const r2 = analyze(measurements({ ramp: busy }));
    assert.ok(
      r2.recommendations.some(
        (x) => x.area === 'CPU' && /400 CPU ms\/s on work other than requests/.test(x.text),
      ),
      'background work on the API box is called out',
    );
  });
});

describe('analyze', () => {
  it('reports the bottleneck, the success metrics, recommendations and the projection', () => {
    const r = analyze(measurements());
    assert.equal(r.bottleneck.dominantStage, 'plan');
    assert.equal(r.headline.sustainedSessions, 50);
    assert.equal(r.headline.rssPeakMb, 520);
    const metric = (prefix: string) => r.successMetrics.find((s) => s.metric.startsWith(prefix))!;
    assert.equal(metric('share of simple').value, 0.93);
    assert.equal(metric('share of simple').pass, true);
    assert.equal(metric('cache hit rate').value, 0.4);
    assert.equal(metric('narrative coverage').value, 0.95);
    assert.equal(metric('concurrent users sustained').pass, false);
    // Naive: 1500 ms planning + 25 ms uncached retrieval + assemble, other, queue = 1545 ms.
    assert.equal(metric('overall improvement').value, Math.round((1 - 120 / 1545) * 1000) / 1000);
    assert.equal(analyze(measurements({ naiveBaselineMs: 1200 })).successMetrics[4]!.value, 0.9);
    const areas = r.recommendations.map((x) => x.area);
    assert.ok(areas.includes('planning'), JSON.stringify(areas));
    assert.ok(areas.includes('capacity'));
    assert.ok(areas.includes('caching'));
    assert.equal(r.scenarios.prepare.users.length, 0, 'user ids stay out of the report');
  });

  it('recommends CPU when requests queue outside the handler, and names error kinds', () => {
    const r = analyze(
      measurements({
        chat: chat({
          errors: 300,
          errorKinds: { overloaded: 200, TimeoutError: 100 },
          stages: [
            { stage: 'queue', meanMs: 300, tailMeanMs: 900, tailShare: 0.75 },
            { stage: 'retrieve', meanMs: 20, tailMeanMs: 100, tailShare: 0.1 },
          ],
        }),
      }),
    );
    const texts = r.recommendations.map((x) => `${x.area}: ${x.text}`).join('\n');
    assert.match(texts, /CPU: Requests wait outside the handler/);
    assert.match(texts, /errors: 10 % of chat requests failed/);
    assert.match(texts, /memory: 200 requests were shed/);
  });

  it('renders Markdown with every section', () => {
    const md = renderMarkdown(analyze(measurements()));
    for (const heading of [...LOAD_REPORT_HEADINGS, '### Upgrade timeline']) {
      assert.ok(md.includes(heading), heading);
    }
    assert.match(md, /\| CPU \(1 vCPU at 80 %\) \| ≈160 concurrent users \|/);
  });
});

describe('sessions', () => {
  it('chats until told to stop, pausing to think between messages', async () => {
    let now = 0;
    const sent: string[] = [];
    const n = await runSession({
      source: {
        simple: () => 'what is my name?',
        complex: () => 'plan my week',
        newConversation: () => 'hi',
      },
      random: () => 0.1,
      thinkMs: 1000,
      send: async (m) => void sent.push(m.kind),
      sleep: async (ms) => void (now += ms),
      done: () => now >= 5000,
    });
    assert.equal(n, sent.length);
    // 100 ms stagger, then one message per 600 ms of thinking until 5 s.
    assert.equal(n, 9);
  });

  it('repeats a recent message at the configured share', () => {
    let i = 0;
    const draws = [0.9, 0.1, 0.1, 0.0]; // a fresh message, then a repeat of it
    const pick = createMessagePicker(() => draws[i++ % draws.length]!);
    const source = { simple: () => 's', complex: () => 'c', newConversation: () => 'n' };
    const first = pick(source);
    const second = pick(source);
    assert.equal(first.repeat, false);
    assert.equal(second.repeat, true);
    assert.equal(second.text, first.text);
  });
});

describe('target readings', () => {
  it('reads RSS, budget and CPU from /metrics and the X-Memory-Usage header', () => {
    assert.deepEqual(parseMemoryHeader('512/2048 MB (25%)'), { rssMb: 512, budgetMb: 2048 });
    assert.equal(parseMemoryHeader('garbage'), null);
    const snap = snapshotFromMetrics(
      [
        '# HELP process_cpu_seconds_total x',
        'process_cpu_seconds_total 12.5',
        'process_resident_memory_bytes 104857600',
        'memory_engine_memory_budget_bytes 2147483648',
        'memory_engine_cache_bytes{cache="plan",tier="l1"} 10',
      ].join('\n'),
    );
    assert.deepEqual(snap, { rssMb: 100, budgetMb: 2048, cpuSecondsTotal: 12.5 });
    const t = createUsageTracker(snap);
    t.observeHeader('300/2048 MB (14.6%)');
    const u = t.finish({ rssMb: 200, budgetMb: 2048, cpuSecondsTotal: 14 });
    assert.deepEqual(u, {
      rssStartMb: 100,
      rssPeakMb: 300,
      rssEndMb: 200,
      budgetMb: 2048,
      cpuSeconds: 1.5,
    });
  });

  it('refuses a target that is not on loopback', () => {
    assert.equal(loopbackTarget('http://127.0.0.1:8080/x'), 'http://127.0.0.1:8080');
    assert.equal(loopbackTarget('http://[::1]:9'), 'http://[::1]:9');
    for (const bad of [
      'http://example.com',
      'http://10.0.0.1:8080',
      'file:///etc/passwd',
      'nope',
    ]) {
      assert.throws(
        () => loopbackTarget(bad),
        (e: unknown) => e instanceof ApplicationFailure && e.nonRetryable && e.type === 'BadInput',
        bad,
      );
    }
  });
});
