import { createChatRecorder, measureChat, type ContextAnswer } from './chat-recorder.ts';
import { runSession } from './session.ts';
import { issueKeys, type ScenarioContext } from './scenario-context.ts';
import { createUsageTracker } from './target-readings.ts';
import { abortableSleep, replyError } from './target-client.ts';
import type { ChatMeasurement, PreparedUser, RampMeasurement, RampStep } from './types.ts';

export interface ChatLoadOptions {
  users: readonly PreparedUser[];
  seed: number;
  thinkMs: number;
  keyOf: (userId: string) => string;
}

/**
 * Chat sessions against `POST /v1/context`, session `n` speaking as user
 * `n mod users`, until `stop()`; sessions can be added while it runs (the
 * ramp). Every answer is recorded.
 */
export function startChatLoad(ctx: ScenarioContext, opts: ChatLoadOptions) {
  const { client, corpus } = ctx;
  const recorder = createChatRecorder();
  const running: Promise<number>[] = [];
  let stopped = false;
  const add = (count: number) => {
    for (let i = 0; i < count; i++) {
      const n = running.length;
      const user = opts.users[n % opts.users.length]!;
      const random = corpus.random(opts.seed * 7919 + n * 31 + 1);
      const key = opts.keyOf(user.id);
      running.push(
        runSession({
          source: corpus.messages(opts.seed, user.index, random),
          random,
          thinkMs: opts.thinkMs,
          done: () => stopped || client.signal.aborted,
          sleep: (ms) => abortableSleep(ms, client.signal),
          async send(message) {
            const started = performance.now();
            try {
              const reply = await client.call('POST', '/v1/context', {
                key,
                body: {
                  message: message.text,
                  is_new_conversation: message.kind === 'new_conversation',
                },
              });
              recorder.record({
                kind: message.kind,
                userId: user.id,
                ms: performance.now() - started,
                status: reply.status,
                ...(reply.status === 200
                  ? { answer: reply.body as ContextAnswer }
                  : { error: replyError(reply) }),
              });
            } catch (error) {
              if (client.signal.aborted) return;
              recorder.record({
                kind: message.kind,
                userId: user.id,
                ms: performance.now() - started,
                status: 0,
                error: error instanceof Error ? error.name : 'error',
              });
            }
          },
        }),
      );
    }
  };
  return {
    recorder,
    add,
    get sessions() {
      return running.length;
    },
    async stop() {
      stopped = true;
      await Promise.all(running);
    },
  };
}

/** `sessions` virtual users chatting for `durationMs`. */
export async function runChat(
  ctx: ScenarioContext,
  opts: {
    users: readonly PreparedUser[];
    seed: number;
    sessions: number;
    durationMs: number;
    thinkMs: number;
  },
): Promise<ChatMeasurement> {
  const { client } = ctx;
  const keys = await issueKeys(ctx, opts.users);
  const usage = createUsageTracker(await client.snapshot());
  const unsubscribe = client.onMemory((h) => usage.observeHeader(h));
  const load = startChatLoad(ctx, { ...opts, keyOf: keys.keyOf });
  const progress = ctx.progress(() => ({
    sessions: load.sessions,
    requests: load.recorder.requests,
    errors: load.recorder.errors,
    p95Ms: load.recorder.recentP95(),
    rssMb: usage.latestMb,
  }));
  const started = performance.now();
  let durationMs = 0;
  try {
    load.add(opts.sessions);
    await abortableSleep(opts.durationMs, client.signal);
    await load.stop();
    durationMs = performance.now() - started;
  } finally {
    progress.stop();
    unsubscribe();
    await load.stop();
    await keys.revoke();
  }
  return load.recorder.measure({
    sessions: opts.sessions,
    durationMs,
    target: usage.finish(await client.snapshot()),
  });
}

export interface RampOptions {
  users: readonly PreparedUser[];
  seed: number;
  startSessions: number;
  step: number;
  stepDurationMs: number;
  p95ThresholdMs: number;
  maxSessions: number;
  thinkMs: number;
}

/**
 * Adds `step` sessions every `stepDurationMs` from `startSessions` until a
 * step's p95 crosses the threshold, its errors pass 5 %, or `maxSessions`.
 * Sustained: the most sessions whose step kept p95 under the threshold and
 * errors at most 1 %.
 */
export async function runRamp(ctx: ScenarioContext, opts: RampOptions): Promise<RampMeasurement> {
  const { client } = ctx;
  const keys = await issueKeys(ctx, opts.users);
  const overall = createUsageTracker(await client.snapshot());
  let stepUsage = overall;
  const unsubscribe = client.onMemory((h) => {
    overall.observeHeader(h);
    stepUsage.observeHeader(h);
  });
  const load = startChatLoad(ctx, { ...opts, keyOf: keys.keyOf });
  const progress = ctx.progress(() => ({
    sessions: load.sessions,
    requests: load.recorder.requests,
    errors: load.recorder.errors,
    p95Ms: load.recorder.recentP95(),
    rssMb: overall.latestMb,
  }));
  const steps: RampStep[] = [];
  let stoppedBecause: RampMeasurement['stoppedBecause'] = 'max_sessions';
  let sustained = 0;
  try {
    for (
      let sessions = opts.startSessions;
      ;
      sessions = Math.min(opts.maxSessions, sessions + opts.step)
    ) {
      load.add(sessions - load.sessions);
      const from = load.recorder.requests;
      stepUsage = createUsageTracker(await client.snapshot());
      const t0 = performance.now();
      await abortableSleep(opts.stepDurationMs, client.signal);
      const measurement = measureChat(load.recorder.since(from), {
        sessions,
        durationMs: performance.now() - t0,
        target: stepUsage.finish(await client.snapshot()),
      });
      steps.push({ sessions, measurement });
      progress.now();
      const errorRate = measurement.requests ? measurement.errors / measurement.requests : 0;
      const p95 = measurement.latency.p95 ?? Infinity;
      if (p95 <= opts.p95ThresholdMs && errorRate <= 0.01) sustained = sessions;
      if (p95 > opts.p95ThresholdMs) {
        stoppedBecause = 'threshold';
        break;
      }
      if (errorRate > 0.05) {
        stoppedBecause = 'errors';
        break;
      }
      if (sessions >= opts.maxSessions || client.signal.aborted) break;
    }
  } finally {
    progress.stop();
    unsubscribe();
    await load.stop();
    await keys.revoke();
  }
  return {
    thresholdMs: opts.p95ThresholdMs,
    steps,
    stoppedBecause,
    sustainedSessions: sustained,
    target: overall.finish(await client.snapshot()),
  };
}
