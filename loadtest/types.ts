// loadtest/: the load generator the load-test workflow's activities and the
// benchmarks drive over HTTP: scenarios, the client, analysis, the capacity
// projection and the synthetic corpus. Imports only core/ helpers.

/**
 * The shapes a load test measures and reports. Measurements are compact
 * (histograms, sums, summaries), never per-request samples, because each one
 * travels through workflow history as an activity result.
 */

export type MessageKind = 'simple' | 'complex' | 'new_conversation';
export const MESSAGE_KINDS: readonly MessageKind[] = ['simple', 'complex', 'new_conversation'];

/** Latency figures in ms (two decimals); `null` when there were no samples. */
export interface LatencySummary {
  count: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
  max: number | null;
}

/** Counts per upper bound in ms; the last count is everything above the last bound. */
export interface HistogramData {
  boundsMs: number[];
  counts: number[];
}

/** One stage of the context pipeline (`timings` keys, plus `queue` and `other`). */
export interface StageFigures {
  stage: string;
  /** Mean over every successful context request. */
  meanMs: number;
  /** Mean over the slow tail: the slowest 5 % of requests (those that set p95). */
  tailMeanMs: number;
  /** This stage's share of the tail's mean latency (0–1). */
  tailShare: number;
}

/** Responses counted by the cache tier that answered (`l1`, `l2`, `l3`, `miss`, `off`). */
export type TierCounts = Record<string, number>;

/** What the target process used, read from `X-Memory-Usage` and `GET /metrics`. */
export interface TargetUsage {
  rssStartMb: number | null;
  rssPeakMb: number | null;
  rssEndMb: number | null;
  budgetMb: number | null;
  /** Process CPU seconds the target spent during the scenario (`process_cpu_seconds_total`). */
  cpuSeconds: number | null;
}

/** A point reading of the target. */
export interface TargetSnapshot {
  rssMb: number | null;
  budgetMb: number | null;
  cpuSecondsTotal: number | null;
}

/** Chat traffic against `POST /v1/context`: one scenario, or one step of the ramp. */
export interface ChatMeasurement {
  sessions: number;
  /** Distinct users the sessions spoke as. */
  users: number;
  durationMs: number;
  requests: number;
  errors: number;
  errorKinds: Record<string, number>;
  latency: LatencySummary;
  histogram: HistogramData;
  byKind: Record<MessageKind, LatencySummary & { errors: number }>;
  stages: StageFigures[];
  cache: { plan: TierCounts; search: TierCounts };
  planSources: Record<string, number>;
  modelCalls: number;
  /** Plan latency of requests that called the model (the naive pipeline calls it for every message). */
  modelPlan: { count: number; meanMs: number | null };
  /** Retrieval latency of requests whose search missed the cache. */
  uncachedRetrieve: { count: number; meanMs: number | null };
  /** Messages the corpus wrote as simple lookups, and how many skipped AI planning. */
  simple: { sent: number; bypassed: number };
  /** Users who opened a new conversation, and those answered with a precomputed narrative. */
  narrative: { usersAsked: number; usersServed: number };
  target: TargetUsage;
}

/** Parallel `POST /v1/memories`. */
export interface SaveMeasurement {
  count: number;
  concurrency: number;
  durationMs: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** Saves that stored new content (a duplicate adds no vector). */
  created: number;
  latency: LatencySummary;
  histogram: HistogramData;
  target: TargetUsage;
}

export interface RampStep {
  sessions: number;
  measurement: ChatMeasurement;
}

/** Sessions added step by step until p95 crosses the threshold. */
export interface RampMeasurement {
  thresholdMs: number;
  steps: RampStep[];
  stoppedBecause: 'threshold' | 'errors' | 'max_sessions';
  /** The most sessions whose step kept p95 under the threshold and errors under 1 %. */
  sustainedSessions: number;
  target: TargetUsage;
}

export interface PreparedUser {
  id: string;
  /** Position in the run: the persona is rebuilt from (seed, index), never stored. */
  index: number;
}

export interface PrepareResult {
  users: PreparedUser[];
  seed: number;
  memoriesPerUser: number;
  /** Memories the target stored as new during seeding. */
  memoriesCreated: number;
  /** Of those, indexed before the scenarios started. */
  memoriesIndexed: number;
  baseline: TargetSnapshot;
}

/** The limits the projection measures against (the seed's plan by default). */
export interface CapacityAssumptions {
  memoryBudgetMb: number;
  /** Share of the budget usable before trouble (the seed: never exceed 90 %). */
  memoryUsableShare: number;
  cpuCores: number;
  /** CPU utilisation to plan for (headroom for bursts). */
  cpuTargetUtilisation: number;
  /** Dimensions of the vectors the target stores (all-MiniLM-L6-v2: 384, Gemini: 768). */
  vectorDimension: number;
  /** Payload bytes stored with each vector (user id, memory id, tags). */
  vectorPayloadBytes: number;
  /** Qdrant plans: RAM in MB (MICRO 1 GB, SMALL 4×). */
  qdrantPlans: { name: string; ramMb: number; usdPerMonth: number }[];
  /** Model requests per minute the project's quota allows. */
  modelQuotaPerMin: number;
  /** Database connections the pool may hold (the seed's pool: 20; Supabase free: 60). */
  dbConnections: number;
  /** The concurrent users the plan aims at. */
  targetConcurrentUsers: number;
  /** Project for users this active (messages per minute) instead of the rate the sessions had. */
  userRequestsPerMinute?: number;
}

/** Everything `analyze()` reads. */
export interface LoadTestMeasurements {
  workflowId: string;
  target: string;
  startedAt: string;
  finishedAt: string;
  settings: Record<string, unknown>;
  prepare: PrepareResult;
  chat: ChatMeasurement;
  saves: SaveMeasurement;
  ramp: RampMeasurement;
  /** A measured naive-pipeline mean (from `npm run bench`), when the caller has one. */
  naiveBaselineMs?: number;
}

export interface SuccessMetric {
  metric: string;
  target: string;
  measured: string;
  value: number | null;
  pass: boolean | null;
}

export interface Recommendation {
  severity: 'high' | 'medium' | 'low';
  area: string;
  text: string;
}

export interface CapacityRow {
  resource: string;
  /** What the users count: users sending traffic at once, or users whose data is stored. */
  unit: 'concurrent users' | 'stored users';
  /** Users at which the resource runs out; `null` when not limiting. */
  limitUsers: number | null;
  notLimiting: boolean;
  perUserCost: number;
  perUserUnit: string;
  capacity: number;
  capacityUnit: string;
  basis: string;
}

export interface CapacityProjection {
  perUser: {
    requestsPerMinute: number;
    memoryMb: number;
    cpuMsPerRequest: number;
    cpuSource:
      | 'process_cpu_seconds_total, fitted over the ramp'
      | 'process_cpu_seconds_total'
      | 'throughput at saturation'
      | 'unmeasured';
    /** CPU the target spends with no load to serve (workers, timers), from the ramp fit. */
    backgroundCpuMsPerS: number;
    vectors: number;
    bytesPerVector: number;
    modelCallsPerRequest: number;
    dbConnectionSecondsPerRequest: number;
  };
  resources: CapacityRow[];
  /** The concurrent-user resource that runs out first. */
  firstLimit: { resource: string; users: number } | null;
  timeline: string[];
}

export interface LoadReport {
  meta: {
    workflowId: string;
    target: string;
    startedAt: string;
    finishedAt: string;
    settings: Record<string, unknown>;
    assumptions: CapacityAssumptions;
  };
  headline: {
    chatP95Ms: number | null;
    chatThroughputPerS: number;
    errorRate: number;
    dominantStage: string | null;
    sustainedSessions: number;
    firstLimit: { resource: string; users: number } | null;
    rssPeakMb: number | null;
  };
  scenarios: {
    prepare: PrepareResult & { users: never[] };
    chat: ChatMeasurement;
    saves: SaveMeasurement & { throughputPerS: number };
    ramp: RampMeasurement;
  };
  bottleneck: { dominantStage: string | null; stages: StageFigures[]; explanation: string };
  cacheHitRates: { plan: number | null; search: number | null };
  successMetrics: SuccessMetric[];
  recommendations: Recommendation[];
  capacity: CapacityProjection;
}
