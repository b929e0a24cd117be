import { histogramOf, summarizeLatencies } from './histogram.ts';
import {
  MESSAGE_KINDS,
  type ChatMeasurement,
  type MessageKind,
  type StageFigures,
  type TargetUsage,
} from './types.ts';

/** The parts of a `POST /v1/context` answer the load test reads. */
export interface ContextAnswer {
  context?: string;
  plan?: { source?: string; class?: string };
  timings?: Record<string, number>;
  cache?: { plan?: string; search?: string };
  model_calls?: number;
}

/** One context request as the client saw it. */
export interface ContextSample {
  kind: MessageKind;
  userId: string;
  /** Client-side latency. */
  ms: number;
  /** HTTP status; 0 when the request never got an answer. */
  status: number;
  /** The error code, status or exception name of a failed request. */
  error?: string;
  answer?: ContextAnswer;
}

/** Time outside the handler: HTTP parsing, middleware and queueing on a busy event loop. */
export const QUEUE_STAGE = 'queue';
/** Handler time no stage accounts for (user lookup, bookkeeping). */
export const OTHER_STAGE = 'other';

const round2 = (v: number) => Math.round(v * 100) / 100;
const mean = (xs: readonly number[]) =>
  xs.length === 0 ? 0 : xs.reduce((s, v) => s + v, 0) / xs.length;
const isHit = (tier: string | undefined) => tier === 'l1' || tier === 'l2' || tier === 'l3';

/** Every stage's time in one successful answer, `queue` and `other` included. */
function stagesOf(sample: ContextSample): Record<string, number> {
  const timings = sample.answer?.timings ?? {};
  const out: Record<string, number> = {};
  let staged = 0;
  for (const [stage, ms] of Object.entries(timings)) {
    if (stage === 'total' || !Number.isFinite(ms)) continue;
    out[stage] = ms;
    staged += ms;
  }
  const total = Number.isFinite(timings.total) ? timings.total! : staged;
  out[OTHER_STAGE] = Math.max(0, total - staged);
  out[QUEUE_STAGE] = Math.max(0, sample.ms - total);
  return out;
}

/** Per-stage means over all answers and over the slow tail (the slowest 5 %). */
export function stageFigures(ok: readonly ContextSample[]): StageFigures[] {
  if (ok.length === 0) return [];
  // The slowest 5 % (at least one): the requests that make the p95.
  const tail = [...ok]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, Math.max(1, Math.ceil(ok.length * 0.05)));
  const all = ok.map(stagesOf);
  const tailStages = tail.map(stagesOf);
  const names = [...new Set(all.flatMap((s) => Object.keys(s)))];
  const tailMeanMs = mean(tail.map((s) => s.ms));
  return names
    .map((stage) => {
      const tailMean = mean(tailStages.map((s) => s[stage] ?? 0));
      return {
        stage,
        meanMs: round2(mean(all.map((s) => s[stage] ?? 0))),
        tailMeanMs: round2(tailMean),
        tailShare: tailMeanMs > 0 ? Math.round((tailMean / tailMeanMs) * 1000) / 1000 : 0,
      };
    })
    .sort((a, b) => b.tailMeanMs - a.tailMeanMs);
}

/** Collects context samples while sessions run; `measure()` compacts them. */
export function createChatRecorder() {
  const samples: ContextSample[] = [];
  let errors = 0;
  return {
    record(sample: ContextSample) {
      samples.push(sample);
      if (sample.error !== undefined) errors++;
    },
    get requests() {
      return samples.length;
    },
    get errors() {
      return errors;
    },
    /** The p95 of the latest `window` requests, for progress reports. */
    recentP95(window = 200): number | null {
      const recent = samples.slice(-window).map((s) => s.ms);
      return summarizeLatencies(recent).p95;
    },
    /** The samples recorded from index `from` on (a ramp step's share). */
    since(from: number): ContextSample[] {
      return samples.slice(from);
    },
    measure(opts: { sessions: number; durationMs: number; target: TargetUsage; from?: number }) {
      return measureChat(samples.slice(opts.from ?? 0), opts);
    },
  };
}

export type ChatRecorder = ReturnType<typeof createChatRecorder>;

/** Compacts context samples into the measurement a report is built from. */
export function measureChat(
  samples: readonly ContextSample[],
  opts: { sessions: number; durationMs: number; target: TargetUsage },
): ChatMeasurement {
  const ok = samples.filter((s) => s.error === undefined);
  const failed = samples.filter((s) => s.error !== undefined);
  const errorKinds: Record<string, number> = {};
  for (const s of failed) errorKinds[s.error!] = (errorKinds[s.error!] ?? 0) + 1;
  const countBy = (key: (s: ContextSample) => string | undefined) => {
    const counts: Record<string, number> = {};
    for (const s of ok) {
      const k = key(s) ?? 'unknown';
      counts[k] = (counts[k] ?? 0) + 1;
    }
    return counts;
  };
  const byKind = Object.fromEntries(
    MESSAGE_KINDS.map((kind) => [
      kind,
      {
        ...summarizeLatencies(ok.filter((s) => s.kind === kind).map((s) => s.ms)),
        errors: failed.filter((s) => s.kind === kind).length,
      },
    ]),
  ) as ChatMeasurement['byKind'];
  // Plans that waited for the model (a fallback after an off-schema answer waited too).
  const modelPlanned = ok.filter((s) => (s.answer?.model_calls ?? 0) > 0);
  const uncached = ok.filter(
    (s) => s.answer?.cache?.search === 'miss' && Number.isFinite(s.answer.timings?.retrieve),
  );
  const simple = samples.filter((s) => s.kind === 'simple');
  const asked = new Set<string>();
  const served = new Set<string>();
  for (const s of ok) {
    if (s.kind !== 'new_conversation') continue;
    asked.add(s.userId);
    if (s.answer?.context?.startsWith('About the user:')) served.add(s.userId);
  }
  return {
    sessions: opts.sessions,
    users: new Set(samples.map((s) => s.userId)).size,
    durationMs: Math.round(opts.durationMs),
    requests: samples.length,
    errors: failed.length,
    errorKinds,
    latency: summarizeLatencies(ok.map((s) => s.ms)),
    histogram: histogramOf(ok.map((s) => s.ms)),
    byKind,
    stages: stageFigures(ok),
    cache: {
      plan: countBy((s) => s.answer?.cache?.plan),
      search: countBy((s) => s.answer?.cache?.search),
    },
    planSources: countBy((s) => s.answer?.plan?.source),
    modelCalls: ok.reduce((sum, s) => sum + (s.answer?.model_calls ?? 0), 0),
    modelPlan: {
      count: modelPlanned.length,
      meanMs: modelPlanned.length
        ? round2(mean(modelPlanned.map((s) => s.answer!.timings?.plan ?? 0)))
        : null,
    },
    uncachedRetrieve: {
      count: uncached.length,
      meanMs: uncached.length
        ? round2(mean(uncached.map((s) => s.answer!.timings!.retrieve!)))
        : null,
    },
    simple: {
      sent: simple.length,
      bypassed: simple.filter(
        (s) => s.error === undefined && s.answer?.plan?.source === 'classifier',
      ).length,
    },
    narrative: { usersAsked: asked.size, usersServed: served.size },
    target: opts.target,
  };
}

/** Hit rate among answers that consulted the cache (`off` excluded); null when none did. */
export function hitRate(tiers: Record<string, number>): number | null {
  let consulted = 0;
  let hits = 0;
  for (const [tier, n] of Object.entries(tiers)) {
    if (tier === 'off' || tier === 'unknown') continue;
    consulted += n;
    if (isHit(tier)) hits += n;
  }
  return consulted === 0 ? null : Math.round((hits / consulted) * 1000) / 1000;
}
