import { createChatRecorder, measureChat, type ContextAnswer } from './chat-recorder.ts';
import { runSession } from './session.ts';
import { issueKeys, type ScenarioContext, type ScenarioUsers } from './scenario-context.ts';
import { createUsageTracker } from './target-readings.ts';
import { abortableSleep, replyError } from './target-client.ts';
import type { ChatMeasurement, RampMeasurement, RampStep } from './types.ts';

export interface ChatLoadOptions extends ScenarioUsers {
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

/**
 * What both chat scenarios hold while they run: the users' keys, the target's
 * memory readings (every `X-Memory-Usage` header also goes to `observe`), the
 * load, and its progress reports. `close()` stops them all and revokes the keys.
 */
async function openChatRun(
  ctx: ScenarioContext,
  opts: ScenarioUsers & { thinkMs: number },
  observe: (header: string | null | undefined) => void = () => undefined,
) {
  const { client } = ctx;
  const keys = await issueKeys(ctx, opts.users);
  const usage = createUsageTracker(await client.snapshot());
  const unsubscribe = client.onMemory((h) => {
    usage.observeHeader(h);
    observe(h);
  });
  const load = startChatLoad(ctx, { ...opts, keyOf: keys.keyOf });
  const progress = ctx.progress(() => ({
    sessions: load.sessions,
    requests: load.recorder.requests,
    errors: load.recorder.errors,
    p95Ms: load.recorder.recentP95(),
    rssMb: usage.latestMb,
  }));
  return {
    load,
    usage,
    progress,
    async close() {
      progress.stop();
      unsubscribe();
      await load.stop();
      await keys.revoke();
    },
  };
}

export interface ChatOptions extends ScenarioUsers {
  sessions: number;
  durationMs: number;
  thinkMs: number;
}

/** `sessions` virtual users chatting for `durationMs`. */
export async function runChat(ctx: ScenarioContext, opts: ChatOptions): Promise<ChatMeasurement> {
  const { client } = ctx;
  const run = await openChatRun(ctx, opts);
  const started = performance.now();
  let durationMs = 0;
  try {
    run.load.add(opts.sessions);
    await abortableSleep(opts.durationMs, client.signal);
    await run.load.stop();
    durationMs = performance.now() - started;
  } finally {
    await run.close();
  }
  return run.load.recorder.measure({
    sessions: opts.sessions,
    durationMs,
    target: run.usage.finish(await client.snapshot()),
  });
}

export interface RampOptions extends ScenarioUsers {
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
  let stepUsage: ReturnType<typeof createUsageTracker> | undefined;
  const run = await openChatRun(ctx, opts, (h) => stepUsage?.observeHeader(h));
  const { load } = run;
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
      run.progress.now();
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
    await run.close();
  }
  return {
    thresholdMs: opts.p95ThresholdMs,
    steps,
    stoppedBecause,
    sustainedSessions: sustained,
    target: run.usage.finish(await client.snapshot()),
  };
}
