import type {
  CapacityAssumptions,
  CapacityProjection,
  CapacityRow,
  LoadTestMeasurements,
} from './types.ts';

const MB = 1024 * 1024;

/** The seed plan's box and services (docs: `optimization-plan.md`). */
export const SEED_ASSUMPTIONS: CapacityAssumptions = {
  memoryBudgetMb: 2048,
  memoryUsableShare: 0.9,
  cpuCores: 1,
  cpuTargetUtilisation: 0.8,
  vectorDimension: 384,
  vectorPayloadBytes: 256,
  qdrantPlans: [
    { name: 'Qdrant MICRO', ramMb: 1024, usdPerMonth: 9.68 },
    { name: 'Qdrant SMALL', ramMb: 4096, usdPerMonth: 40 },
  ],
  modelQuotaPerMin: 1000,
  dbConnections: 20,
  targetConcurrentUsers: 100,
};

/** Qdrant's sizing rule: vectors × dimension × 4 bytes × 1.5 (index and overhead). */
const QDRANT_OVERHEAD = 1.5;

const round = (v: number, digits = 0) => Math.round(v * 10 ** digits) / 10 ** digits;

function row(
  fields: Omit<CapacityRow, 'limitUsers' | 'notLimiting'>,
  limit: number | null | 'not limiting',
): CapacityRow {
  if (limit === 'not limiting') return { ...fields, limitUsers: null, notLimiting: true };
  return {
    ...fields,
    limitUsers: limit === null || !Number.isFinite(limit) ? null : Math.max(0, Math.floor(limit)),
    notLimiting: false,
  };
}

const ACTIONS: Record<string, string> = {
  memory:
    'raise MEMORY_BUDGET_MB on a bigger box, or run API processes on two boxes with Redis as the shared L2 cache',
  cpu: 'add a vCPU or a second API process behind a balancer (workers on their own box)',
  model: 'raise the model quota tier, or widen the plan cache TTL so fewer messages are planned',
  db: 'raise PG_POOL_SIZE within the database plan (Supabase free: 60), or move to a paid tier',
  qdrant:
    'migrate to the next Qdrant plan (task 11), or shrink vectors (consolidation, smaller dimension)',
};

/**
 * Least squares of CPU ms/s against requests/s over the ramp's steps under the
 * threshold: the slope is the CPU per request, the intercept the background.
 * Null without three such steps or when the fit is not a cost (slope ≤ 0).
 */
export function fitCpu(
  ramp: LoadTestMeasurements['ramp'],
): { msPerRequest: number; backgroundMsPerS: number } | null {
  const points = ramp.steps
    .filter(
      (s) =>
        s.measurement.target.cpuSeconds !== null &&
        s.measurement.durationMs > 0 &&
        (s.measurement.latency.p95 ?? Infinity) <= ramp.thresholdMs,
    )
    .map((s) => {
      const seconds = s.measurement.durationMs / 1000;
      return {
        x: s.measurement.requests / seconds,
        y: (s.measurement.target.cpuSeconds! * 1000) / seconds,
      };
    });
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((t, p) => t + p.x, 0) / n;
  const my = points.reduce((t, p) => t + p.y, 0) / n;
  const sxx = points.reduce((t, p) => t + (p.x - mx) ** 2, 0);
  if (sxx === 0) return null;
  const slope = points.reduce((t, p) => t + (p.x - mx) * (p.y - my), 0) / sxx;
  if (!(slope > 0)) return null;
  return { msPerRequest: slope, backgroundMsPerS: Math.max(0, my - slope * mx) };
}

/**
 * At how many users each resource runs out, from the per-user costs this run
 * measured: memory growth per concurrent user, CPU per request, vectors per
 * stored user, model calls per request and connection time per request, each
 * against the limit in `a`.
 */
export function projectCapacity(
  m: LoadTestMeasurements,
  a: CapacityAssumptions,
): CapacityProjection {
  const { chat, ramp, prepare, saves } = m;
  const chatSeconds = chat.durationMs / 1000;
  // How active a user is: as this run's sessions were, unless the caller projects for another rate.
  const requestsPerUserPerS =
    a.userRequestsPerMinute !== undefined
      ? a.userRequestsPerMinute / 60
      : chat.sessions > 0 && chatSeconds > 0
        ? chat.requests / (chat.sessions * chatSeconds)
        : 0;

  // Memory: RSS growth from the start of the load (users seeded and indexed) to the run's
  // peak, per concurrent user at the run's most sessions; the baseline is what the process
  // holds before any user is active.
  const baseline = chat.target.rssStartMb ?? prepare.baseline.rssMb;
  const budgetMb = chat.target.budgetMb ?? prepare.baseline.budgetMb ?? a.memoryBudgetMb;
  const peaks = [chat.target.rssPeakMb, saves.target.rssPeakMb, ramp.target.rssPeakMb]
    .concat(ramp.steps.map((s) => s.measurement.target.rssPeakMb))
    .filter((v): v is number => v !== null);
  const mostSessions = Math.max(chat.sessions, ...ramp.steps.map((s) => s.sessions));
  const memoryPerUser =
    baseline === null || peaks.length === 0 || mostSessions <= 0
      ? null
      : Math.max(0, Math.max(...peaks) - baseline) / mostSessions;
  const usableMb = budgetMb * a.memoryUsableShare;
  const memoryRow = row(
    {
      resource: `memory budget (${budgetMb} MB, ${Math.round(a.memoryUsableShare * 100)} % usable)`,
      unit: 'concurrent users',
      perUserCost: round(memoryPerUser ?? 0, 2),
      perUserUnit: 'MB RSS per concurrent user',
      capacity: round(usableMb),
      capacityUnit: 'MB',
      basis:
        baseline === null
          ? 'unmeasured: the target exposes neither X-Memory-Usage nor RSS in /metrics'
          : `baseline ${baseline} MB when the load started; peak RSS growth over the run / ${mostSessions} concurrent sessions (the run's most)`,
    },
    baseline === null
      ? null
      : memoryPerUser !== null && memoryPerUser < 0.01
        ? 'not limiting'
        : memoryPerUser === null
          ? null
          : (usableMb - baseline) / memoryPerUser,
  );

  // CPU: with per-step CPU readings, a fit over the ramp's unsaturated steps separates the
  // cost per request from background work (indexing, narratives, timers); else the chat
  // scenario's CPU per request; else the throughput the ramp saturated at.
  const fit = fitCpu(ramp);
  let cpuMsPerRequest = 0;
  let backgroundMsPerS = 0;
  let cpuSource: CapacityProjection['perUser']['cpuSource'] = 'unmeasured';
  if (fit) {
    cpuMsPerRequest = fit.msPerRequest;
    backgroundMsPerS = fit.backgroundMsPerS;
    cpuSource = 'process_cpu_seconds_total, fitted over the ramp';
  } else if (chat.target.cpuSeconds !== null && chat.requests > 0) {
    cpuMsPerRequest = (chat.target.cpuSeconds * 1000) / chat.requests;
    cpuSource = 'process_cpu_seconds_total';
  } else {
    const best = Math.max(
      0,
      ...ramp.steps.map((s) => s.measurement.requests / (s.measurement.durationMs / 1000 || 1)),
    );
    if (best > 0) {
      cpuMsPerRequest = (a.cpuCores * 1000) / best;
      cpuSource = 'throughput at saturation';
    }
  }
  const cpuPerUserMsPerS = cpuMsPerRequest * requestsPerUserPerS;
  const cpuBudget = a.cpuCores * 1000 * a.cpuTargetUtilisation;
  const cpuRow = row(
    {
      resource: `CPU (${a.cpuCores} vCPU at ${Math.round(a.cpuTargetUtilisation * 100)} %)`,
      unit: 'concurrent users',
      perUserCost: round(cpuPerUserMsPerS, 2),
      perUserUnit: 'CPU ms per second per concurrent user',
      capacity: round(cpuBudget),
      capacityUnit: 'CPU ms per second',
      basis:
        cpuSource === 'unmeasured'
          ? 'unmeasured: no process_cpu_seconds_total and no ramp'
          : `${round(cpuMsPerRequest, 2)} CPU ms per request (${cpuSource})` +
            (backgroundMsPerS > 0
              ? ` plus ${round(backgroundMsPerS)} ms/s of background work`
              : '') +
            ` × ${round(requestsPerUserPerS, 3)} requests/s per user`,
    },
    cpuSource === 'unmeasured'
      ? null
      : cpuPerUserMsPerS <= 0
        ? 'not limiting'
        : Math.max(0, cpuBudget - backgroundMsPerS) / cpuPerUserMsPerS,
  );

  // Vector index: vectors each stored user holds, against each Qdrant plan's RAM.
  const users = Math.max(1, prepare.users.length);
  const vectorsPerUser = (prepare.memoriesCreated + saves.created) / users;
  const bytesPerVector = a.vectorDimension * 4 * QDRANT_OVERHEAD + a.vectorPayloadBytes;
  const qdrantRows = a.qdrantPlans.map((plan) =>
    row(
      {
        resource: `vector index (${plan.name}, ${plan.ramMb} MB RAM, $${plan.usdPerMonth}/month)`,
        unit: 'stored users',
        perUserCost: round(vectorsPerUser * bytesPerVector, 0),
        perUserUnit: 'bytes of vector RAM per stored user',
        capacity: plan.ramMb,
        capacityUnit: 'MB',
        basis: `${round(vectorsPerUser, 1)} vectors per user stored in this run × ${round(bytesPerVector)} bytes (${a.vectorDimension} dims × 4 B × ${QDRANT_OVERHEAD} + ${a.vectorPayloadBytes} B payload)`,
      },
      vectorsPerUser <= 0 ? 'not limiting' : (plan.ramMb * MB) / (vectorsPerUser * bytesPerVector),
    ),
  );

  // Model quota: calls per request × requests per user, against requests per minute.
  const modelCallsPerRequest = chat.requests > 0 ? chat.modelCalls / chat.requests : 0;
  const modelPerUserPerMin = modelCallsPerRequest * requestsPerUserPerS * 60;
  const modelRow = row(
    {
      resource: `model quota (${a.modelQuotaPerMin} requests/min)`,
      unit: 'concurrent users',
      perUserCost: round(modelPerUserPerMin, 3),
      perUserUnit: 'model calls per minute per concurrent user',
      capacity: a.modelQuotaPerMin,
      capacityUnit: 'requests/min',
      basis: `${round(modelCallsPerRequest, 3)} model calls per context request`,
    },
    modelPerUserPerMin <= 0 ? 'not limiting' : a.modelQuotaPerMin / modelPerUserPerMin,
  );

  // Database connections (Little's law): requests/s × connection-seconds per request.
  const dbStages = new Set(['retrieve', 'assemble', 'other']);
  const dbSecondsPerRequest =
    chat.stages.filter((s) => dbStages.has(s.stage)).reduce((sum, s) => sum + s.meanMs, 0) / 1000;
  const dbPerUser = requestsPerUserPerS * dbSecondsPerRequest;
  const dbRow = row(
    {
      resource: `database connections (pool of ${a.dbConnections})`,
      unit: 'concurrent users',
      perUserCost: round(dbPerUser, 4),
      perUserUnit: 'connections held per concurrent user',
      capacity: a.dbConnections,
      capacityUnit: 'connections',
      basis: `${round(dbSecondsPerRequest * 1000, 1)} ms of store time per request (retrieve + assemble + other), ${round((chat.requests / (chatSeconds || 1)) * dbSecondsPerRequest, 2)} connections in use during the chat scenario`,
    },
    dbPerUser <= 0 ? 'not limiting' : a.dbConnections / dbPerUser,
  );

  const resources = [memoryRow, cpuRow, ...qdrantRows, modelRow, dbRow];
  const concurrent = resources
    .filter((r) => r.unit === 'concurrent users' && r.limitUsers !== null)
    .sort((x, y) => x.limitUsers! - y.limitUsers!);
  const first = concurrent[0];
  const actionFor = (r: CapacityRow) =>
    ACTIONS[
      r.resource.startsWith('memory')
        ? 'memory'
        : r.resource.startsWith('CPU')
          ? 'cpu'
          : r.resource.startsWith('model')
            ? 'model'
            : r.resource.startsWith('database')
              ? 'db'
              : 'qdrant'
    ]!;
  const timeline = [
    ...concurrent.map(
      (r) => `at ≈${r.limitUsers} concurrent users: ${r.resource} runs out → ${actionFor(r)}`,
    ),
    ...qdrantRows
      .filter((r) => r.limitUsers !== null)
      .map((r) => `at ≈${r.limitUsers} stored users: ${r.resource} is full → ${actionFor(r)}`),
    ...resources
      .filter((r) => r.notLimiting)
      .map((r) => `${r.resource}: not limiting at the measured per-user cost`),
  ];

  return {
    perUser: {
      requestsPerMinute: round(requestsPerUserPerS * 60, 2),
      memoryMb: round(memoryPerUser ?? 0, 2),
      cpuMsPerRequest: round(cpuMsPerRequest, 2),
      cpuSource,
      backgroundCpuMsPerS: round(backgroundMsPerS, 1),
      vectors: round(vectorsPerUser, 1),
      bytesPerVector: round(bytesPerVector),
      modelCallsPerRequest: round(modelCallsPerRequest, 3),
      dbConnectionSecondsPerRequest: round(dbSecondsPerRequest, 4),
    },
    resources,
    firstLimit: first ? { resource: first.resource, users: first.limitUsers! } : null,
    timeline,
  };
}
