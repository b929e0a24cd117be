import { hitRate, QUEUE_STAGE } from './chat-recorder.ts';
import { projectCapacity, SEED_ASSUMPTIONS } from './capacity.ts';
import type {
  CapacityAssumptions,
  CapacityProjection,
  ChatMeasurement,
  LoadReport,
  LoadTestMeasurements,
  Recommendation,
  SuccessMetric,
} from './types.ts';

const pct = (v: number | null) => (v === null ? 'n/a' : `${Math.round(v * 1000) / 10} %`);
const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 1000) / 1000);

/**
 * The naive pipeline's mean latency: measured by the benchmark when given,
 * else estimated from this run's stage timings as a lower bound (every
 * message planned by the model, every search missing the cache).
 */
export function naiveEstimate(
  chat: ChatMeasurement,
  measured?: number,
): { meanMs: number | null; source: string } {
  if (measured !== undefined && measured > 0) {
    return { meanMs: measured, source: 'measured by the context benchmark (naive switches)' };
  }
  const stage = (name: string) => chat.stages.find((s) => s.stage === name)?.meanMs ?? 0;
  if (chat.latency.count === 0) return { meanMs: null, source: 'no successful requests' };
  const plan = chat.modelPlan.meanMs ?? stage('plan');
  const retrieve = chat.uncachedRetrieve.meanMs ?? stage('retrieve');
  const estimate =
    stage('classify') + plan + retrieve + stage('assemble') + stage('other') + stage(QUEUE_STAGE);
  return {
    meanMs: Math.round(estimate * 100) / 100,
    source:
      chat.modelPlan.count > 0
        ? `estimated: this run's planning with a model call (${chat.modelPlan.meanMs} ms) and uncached retrieval on every message (a lower bound: strategies counted as parallel)`
        : 'estimated without model latency (no request called the model in this run): a lower bound',
  };
}

function successMetrics(m: LoadTestMeasurements, a: CapacityAssumptions): SuccessMetric[] {
  const { chat, ramp } = m;
  const bypass = ratio(chat.simple.bypassed, chat.simple.sent);
  const planHits = hitRate(chat.cache.plan);
  const searchHits = hitRate(chat.cache.search);
  const coverage = ratio(chat.narrative.usersServed, chat.narrative.usersAsked);
  const naive = naiveEstimate(chat, m.naiveBaselineMs);
  const improvement =
    naive.meanMs && chat.latency.mean !== null
      ? Math.round((1 - chat.latency.mean / naive.meanMs) * 1000) / 1000
      : null;
  return [
    {
      metric: 'share of simple queries bypassed (no AI planning)',
      target: '≥ 60 %',
      measured: `${pct(bypass)} (${chat.simple.bypassed} of ${chat.simple.sent})`,
      value: bypass,
      pass: bypass === null ? null : bypass >= 0.6,
    },
    {
      metric: 'cache hit rate (plan cache)',
      target: '≥ 50 % (60–80 % expected)',
      measured: `plan ${pct(planHits)}, search ${pct(searchHits)}`,
      value: planHits,
      pass: planHits === null ? null : planHits >= 0.5,
    },
    {
      metric: 'narrative coverage of users active in 48 h',
      target: '> 90 %',
      measured: `${pct(coverage)} (${chat.narrative.usersServed} of ${chat.narrative.usersAsked} users opening a conversation got a precomputed narrative)`,
      value: coverage,
      pass: coverage === null ? null : coverage > 0.9,
    },
    {
      metric: 'concurrent users sustained',
      target: `${a.targetConcurrentUsers} with p95 ≤ ${ramp.thresholdMs} ms`,
      measured: `${ramp.sustainedSessions} sessions (ramp stopped: ${ramp.stoppedBecause.replace('_', ' ')})`,
      value: ramp.sustainedSessions,
      pass: ramp.sustainedSessions >= a.targetConcurrentUsers,
    },
    {
      metric: 'overall improvement against the naive pipeline',
      target: '≥ 85 %',
      measured: `${pct(improvement)} (mean ${chat.latency.mean ?? 'n/a'} ms vs naive ${naive.meanMs ?? 'n/a'} ms, ${naive.source})`,
      value: improvement,
      pass: improvement === null ? null : improvement >= 0.85,
    },
  ];
}

function recommendations(
  m: LoadTestMeasurements,
  capacity: CapacityProjection,
  a: CapacityAssumptions,
): Recommendation[] {
  const { chat, saves, ramp } = m;
  const out: Recommendation[] = [];
  const dominant = chat.stages[0];
  const planHits = hitRate(chat.cache.plan);
  const searchHits = hitRate(chat.cache.search);
  if (dominant && dominant.tailShare >= 0.3) {
    const share = `${Math.round(dominant.tailShare * 100)} % of the p95 tail`;
    const byStage: Record<string, Recommendation> = {
      [QUEUE_STAGE]: {
        severity: 'high',
        area: 'CPU',
        text: `Requests wait outside the handler (${share}): the process is CPU-bound at ${chat.sessions} sessions. Add a vCPU or a second API process; move workers (indexing, narratives) off the API box.`,
      },
      plan: {
        severity: 'high',
        area: 'planning',
        text: `Model planning dominates p95 (${share}); plan cache hit rate ${pct(planHits)}. Lengthen PLAN_CACHE_TTL_S, share plans across processes with Redis (L2), and check the classifier sends lookups down the fast path.`,
      },
      retrieve: {
        severity: 'high',
        area: 'retrieval',
        text: `Retrieval dominates p95 (${share}); search cache hit rate ${pct(searchHits)}. Keep vector batching on, index the graph lookups, and size the vector store (Qdrant) for its load.`,
      },
      assemble: {
        severity: 'medium',
        area: 'database',
        text: `Fetching the chosen memories dominates p95 (${share}): check the database pool and the memories query under load.`,
      },
      other: {
        severity: 'medium',
        area: 'database',
        text: `Time outside the named stages (user lookup, bookkeeping) dominates p95 (${share}): profile the request's store calls.`,
      },
    };
    const rec = byStage[dominant.stage];
    if (rec) out.push(rec);
  }
  const cpuBudget = a.cpuCores * 1000 * a.cpuTargetUtilisation;
  if (capacity.perUser.backgroundCpuMsPerS > cpuBudget * 0.25) {
    out.push({
      severity: 'medium',
      area: 'CPU',
      text: `The target spends ${Math.round(capacity.perUser.backgroundCpuMsPerS)} CPU ms/s on work other than requests (indexing, narratives, extraction on a worker in the same process): run the worker on its own box to give the API that CPU.`,
    });
  }
  const errorRate = chat.requests ? chat.errors / chat.requests : 0;
  if (errorRate > 0.01) {
    out.push({
      severity: 'high',
      area: 'errors',
      text: `${pct(errorRate)} of chat requests failed (${JSON.stringify(chat.errorKinds)}): fix these before trusting the latency figures.`,
    });
  }
  const shed =
    (chat.errorKinds['overloaded'] ?? 0) +
    ramp.steps.reduce((s, x) => s + (x.measurement.errorKinds['overloaded'] ?? 0), 0);
  if (shed > 0) {
    out.push({
      severity: 'high',
      area: 'memory',
      text: `${shed} requests were shed (503 overloaded) under memory pressure: the budget is too small for this load or a cache is oversized.`,
    });
  }
  const budget = chat.target.budgetMb ?? a.memoryBudgetMb;
  const peak = Math.max(
    chat.target.rssPeakMb ?? 0,
    ramp.target.rssPeakMb ?? 0,
    saves.target.rssPeakMb ?? 0,
  );
  if (peak > 0 && peak / budget > 0.7) {
    out.push({
      severity: 'medium',
      area: 'memory',
      text: `Peak RSS ${peak} MB is ${pct(peak / budget)} of the ${budget} MB budget: narratives pause at 70 % and caches are cleared at 80 %.`,
    });
  }
  if (planHits !== null && planHits < 0.5) {
    out.push({
      severity: 'medium',
      area: 'caching',
      text: `Plan cache hit rate ${pct(planHits)} is under the seed's 50 % goal: more repeated questions hit the cache with a longer TTL; a load with few repeats (like this one's) shows a floor.`,
    });
  }
  const bypass = ratio(chat.simple.bypassed, chat.simple.sent);
  if (bypass !== null && bypass < 0.6) {
    out.push({
      severity: 'medium',
      area: 'classification',
      text: `Only ${pct(bypass)} of simple lookups skipped AI planning: extend the classifier's patterns.`,
    });
  }
  const coverage = ratio(chat.narrative.usersServed, chat.narrative.usersAsked);
  if (coverage !== null && coverage < 0.9) {
    out.push({
      severity: 'medium',
      area: 'narratives',
      text: `Narratives were ready for ${pct(coverage)} of users opening a conversation: make sure the narrative feeder schedule and scheduler run on a worker (new users need one feeder pass).`,
    });
  }
  if (saves.latency.p95 !== null && saves.latency.p95 > 1000) {
    out.push({
      severity: 'medium',
      area: 'saves',
      text: `Memory saves p95 is ${saves.latency.p95} ms at ${saves.concurrency} in parallel: the commit path is contended (database pool, write locks).`,
    });
  }
  if (ramp.sustainedSessions < a.targetConcurrentUsers) {
    out.push({
      severity: 'high',
      area: 'capacity',
      text: `The ramp sustained ${ramp.sustainedSessions} sessions under ${ramp.thresholdMs} ms p95, short of the ${a.targetConcurrentUsers} the plan aims at${capacity.firstLimit ? `; the first resource to run out is ${capacity.firstLimit.resource} at ≈${capacity.firstLimit.users} users` : ''}.`,
    });
  }
  for (const r of capacity.resources) {
    if (r.limitUsers === null) continue;
    const target = a.targetConcurrentUsers;
    if (r.unit === 'concurrent users' && r.limitUsers < target * 1.5) {
      out.push({
        severity: r.limitUsers < target ? 'high' : 'medium',
        area: 'capacity',
        text: `${r.resource} runs out at ≈${r.limitUsers} concurrent users (target ${target}): plan the upgrade now.`,
      });
    }
    if (r.unit === 'stored users' && r.resource.includes('MICRO') && r.limitUsers < 1000) {
      out.push({
        severity: r.limitUsers < 100 ? 'high' : 'medium',
        area: 'vector index',
        text: `${r.resource} holds ≈${r.limitUsers} users at this run's vectors per user: migrate to SMALL before that (the seed's trigger: 50+ daily active users).`,
      });
    }
  }
  if (out.length === 0) {
    out.push({
      severity: 'low',
      area: 'general',
      text: 'No rule fired: the target met every check at this load. Re-run with more sessions to find the limit.',
    });
  }
  return out;
}

/**
 * Turns a run's measurements into the report: the stage that dominates p95,
 * the seed's success metrics, recommendations (rules over the
 * measurements) and the capacity projection.
 */
export function analyze(
  m: LoadTestMeasurements,
  assumptions: Partial<CapacityAssumptions> = {},
): LoadReport {
  const a: CapacityAssumptions = { ...SEED_ASSUMPTIONS, ...assumptions };
  const { chat, saves, ramp, prepare } = m;
  const capacity = projectCapacity(m, a);
  const dominant = chat.stages[0] ?? null;
  const rssPeaks = [chat.target.rssPeakMb, saves.target.rssPeakMb, ramp.target.rssPeakMb].filter(
    (v): v is number => v !== null,
  );
  const savesSeconds = saves.durationMs / 1000;
  return {
    meta: {
      workflowId: m.workflowId,
      target: m.target,
      startedAt: m.startedAt,
      finishedAt: m.finishedAt,
      settings: m.settings,
      assumptions: a,
    },
    headline: {
      chatP95Ms: chat.latency.p95,
      chatThroughputPerS:
        Math.round((chat.requests / Math.max(0.001, chat.durationMs / 1000)) * 10) / 10,
      errorRate: chat.requests ? Math.round((chat.errors / chat.requests) * 1000) / 1000 : 0,
      dominantStage: dominant?.stage ?? null,
      sustainedSessions: ramp.sustainedSessions,
      firstLimit: capacity.firstLimit,
      rssPeakMb: rssPeaks.length ? Math.max(...rssPeaks) : null,
    },
    scenarios: {
      prepare: { ...prepare, users: [] },
      chat,
      saves: {
        ...saves,
        throughputPerS: Math.round((saves.count / Math.max(0.001, savesSeconds)) * 10) / 10,
      },
      ramp,
    },
    bottleneck: {
      dominantStage: dominant?.stage ?? null,
      stages: chat.stages,
      explanation: dominant
        ? `In the chat scenario's slow tail (the slowest 5 % of requests; p95 = ${chat.latency.p95} ms), '${dominant.stage}' took ${dominant.tailMeanMs} ms on average, ${Math.round(dominant.tailShare * 100)} % of the tail's latency.`
        : 'No successful chat requests: no stage to blame.',
    },
    cacheHitRates: { plan: hitRate(chat.cache.plan), search: hitRate(chat.cache.search) },
    successMetrics: successMetrics(m, a),
    recommendations: recommendations(m, capacity, a),
    capacity,
  };
}
