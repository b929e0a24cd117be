import {
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.ts';
import type { StoredLoadReport } from '../activities/loadtest-activities.ts';
import { LOAD_TEST_PROGRESS_SIGNAL, type LiveProgress } from '../loadtest/progress.ts';
import type { CapacityAssumptions } from '../loadtest/types.ts';

/** A load-test run; every field but `target` has a default (a full run: 100 sessions for 60 s). */
export interface LoadTestInput {
  /** The API under test, e.g. `http://127.0.0.1:8080`; loopback hosts only. */
  target: string;
  /** Virtual users created for the run (default: the chat sessions). */
  users?: number;
  /** Memories seeded per user (default 20). */
  memoriesPerUser?: number;
  /** Seeds the synthetic personas and messages (default 1). */
  seed?: number;
  /** How long to wait for seeded memories to be indexed (default 120 s). */
  indexWaitMs?: number;
  chat?: { sessions?: number; durationMs?: number; thinkMs?: number };
  saves?: { count?: number };
  ramp?: {
    startSessions?: number;
    step?: number;
    stepDurationMs?: number;
    p95ThresholdMs?: number;
    maxSessions?: number;
    thinkMs?: number;
  };
  /** Overrides of the limits the capacity projection measures against. */
  assumptions?: Partial<CapacityAssumptions>;
  /** The naive pipeline's mean latency from `npm run bench`, when known (else estimated). */
  naiveBaselineMs?: number;
}

export type LoadTestPhase = 'prepare' | 'chat' | 'saves' | 'ramp' | 'report' | 'done';

export interface LoadTestProgress {
  phase: LoadTestPhase;
  completed: LoadTestPhase[];
  /** The running scenario's latest counts (sent by its activity every few seconds). */
  live: LiveProgress | null;
}

export interface LoadTestResult {
  workflowId: string;
  report: StoredLoadReport;
}

export const loadTestProgressQuery = defineQuery<LoadTestProgress>('progress');
export const loadTestProgressSignal = defineSignal<[LiveProgress]>(LOAD_TEST_PROGRESS_SIGNAL);

/** The readable id of a run started now: `loadtest-2026-11-26T12-00-00-000Z`. */
export const loadTestWorkflowId = (at: Date = new Date()) =>
  `loadtest-${at.toISOString().replace(/[:.]/g, '-')}`;

/** Resolved input: every default filled in. */
export function loadTestSettings(input: LoadTestInput) {
  const sessions = input.chat?.sessions ?? 100;
  const thinkMs = input.chat?.thinkMs ?? 1000;
  return {
    target: input.target,
    users: input.users ?? sessions,
    memoriesPerUser: input.memoriesPerUser ?? 20,
    seed: input.seed ?? 1,
    indexWaitMs: input.indexWaitMs ?? 120_000,
    chat: { sessions, durationMs: input.chat?.durationMs ?? 60_000, thinkMs },
    saves: { count: input.saves?.count ?? 50 },
    ramp: {
      // Starts at 10 sessions, or at the ceiling when that is lower.
      startSessions: input.ramp?.startSessions ?? Math.min(10, input.ramp?.maxSessions ?? 300),
      step: input.ramp?.step ?? 20,
      stepDurationMs: input.ramp?.stepDurationMs ?? 15_000,
      p95ThresholdMs: input.ramp?.p95ThresholdMs ?? 1000,
      maxSessions: input.ramp?.maxSessions ?? 300,
      thinkMs: input.ramp?.thinkMs ?? thinkMs,
    },
  };
}

// A scenario restarted on another worker measures afresh; a second failure ends the run.
const scenarioOptions = (startToCloseMs: number): ActivityOptions => ({
  startToCloseTimeout: startToCloseMs,
  // Scenarios heartbeat every 2 s: a dead worker is noticed within 20 s.
  heartbeatTimeout: '20 seconds',
  retry: {
    initialInterval: '5 seconds',
    maximumAttempts: 2,
    nonRetryableErrorTypes: ['BadInput', 'NotConfigured'],
  },
});

/**
 * Drives a target API with virtual users (workflow id `loadtest-<timestamp>`,
 * task queue `TASK_QUEUE_LOADTESTS`): prepares users and memories, then runs
 * chat sessions, parallel saves and a peak ramp as heartbeating activities,
 * and stores a Markdown + JSON report (bottleneck, success metrics,
 * recommendations, capacity projection), returned with its paths.
 */
export async function loadTestWorkflow(input: LoadTestInput): Promise<LoadTestResult> {
  const { workflowId } = workflowInfo();
  const s = loadTestSettings(input);
  const startedAt = new Date().toISOString();
  const progress: LoadTestProgress = { phase: 'prepare', completed: [], live: null };
  setHandler(loadTestProgressQuery, () => progress);
  setHandler(loadTestProgressSignal, (live) => {
    if (live.scenario === progress.phase) progress.live = live;
  });
  const enter = (phase: LoadTestPhase) => {
    if (progress.phase !== phase) progress.completed.push(progress.phase);
    progress.phase = phase;
    progress.live = null;
  };

  const { prepareLoadTest } = proxyActivities<Activities>(
    scenarioOptions(s.indexWaitMs + s.users * 2_000 + 300_000),
  );
  const { runChatSessions } = proxyActivities<Activities>(
    scenarioOptions(s.chat.durationMs + 180_000),
  );
  const { runParallelSaves } = proxyActivities<Activities>(scenarioOptions(300_000));
  const rampSteps =
    Math.ceil(Math.max(0, s.ramp.maxSessions - s.ramp.startSessions) / s.ramp.step) + 1;
  const { runPeakRamp } = proxyActivities<Activities>(
    scenarioOptions(rampSteps * (s.ramp.stepDurationMs + 10_000) + 180_000),
  );
  const { storeLoadReport } = proxyActivities<Activities>({
    startToCloseTimeout: '1 minute',
    retry: { maximumAttempts: 5, nonRetryableErrorTypes: ['BadInput', 'NotConfigured'] },
  });

  const prepared = await prepareLoadTest({
    target: s.target,
    users: s.users,
    memoriesPerUser: s.memoriesPerUser,
    seed: s.seed,
    indexWaitMs: s.indexWaitMs,
  });
  const scenario = { target: s.target, users: prepared.users, seed: s.seed };

  enter('chat');
  const chat = await runChatSessions({ ...scenario, ...s.chat });
  enter('saves');
  const saves = await runParallelSaves({ ...scenario, ...s.saves });
  enter('ramp');
  const ramp = await runPeakRamp({ ...scenario, ...s.ramp });

  enter('report');
  const report = await storeLoadReport({
    measurements: {
      workflowId,
      target: s.target,
      startedAt,
      finishedAt: new Date().toISOString(),
      settings: s,
      prepare: prepared,
      chat,
      saves,
      ramp,
      ...(input.naiveBaselineMs !== undefined ? { naiveBaselineMs: input.naiveBaselineMs } : {}),
    },
    ...(input.assumptions ? { assumptions: input.assumptions } : {}),
  });
  enter('done');
  return { workflowId, report };
}
