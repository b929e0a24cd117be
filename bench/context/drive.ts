// Driving the product with chat sessions: each session speaks for one user at a
// time (drawn by Zipf activity among the users no other session holds, at its start
// and whenever it opens a new conversation), sends a new or repeated message of the
// mix to `POST /v1/context` (or `GET /healthz` for the floor), records what the
// answer says it cost, and thinks.
import {
  failedSample,
  isInterrupted,
  log,
  REQUEST_TIMEOUT_MS,
  sleep,
  userClient,
} from '../bench-kit.ts';
import type { Random } from '../../core/util/seeded-random.ts';
import {
  complexMessage,
  newConversationMessage,
  simpleMessage,
  type MessageKind,
} from '../../loadtest/context-corpus.ts';
import { summarize } from './analyze.ts';
import { askSave, type SaveLedger } from './saves.ts';
import { MIX, PROGRESS_EVERY_MS, RECENT_PER_USER, REPEAT_SHARE, ZIPF_S } from './options.ts';
import type { SeededUser } from './seed.ts';
import { SessionUsers } from './session-users.ts';

export interface Sample {
  /** ms since the run started, when the request was sent. */
  at: number;
  kind: MessageKind | 'healthz' | 'save';
  /** The user who asked (none for the floor): per-user rates against the rate limiter. */
  user?: string;
  repeat: boolean;
  ms: number;
  ok: boolean;
  status: number;
  error?: string;
  planClass?: string;
  planSource?: string;
  /** Why a heuristic plan stood in for the model (`plan.fallback`). */
  planFallback?: string;
  /** A repeat's: the plan source its message's first occurrence got (`unanswered` if none yet). */
  firstSource?: string;
  cachePlan?: string;
  cacheSearch?: string;
  modelCalls?: number;
  /** The product's own stage timings of the answer (`timings`: classify, plan, retrieve, assemble, total). */
  server?: Record<string, number>;
}

export interface DriveOptions {
  name: string;
  url: string;
  users: SeededUser[];
  sessions: number;
  thinkMs: number;
  durationS: number;
  warmupS: number;
  random: Random;
  /** Ask `GET /healthz` instead of `/v1/context`: the floor. */
  healthz?: boolean;
  /** The product's memory (its whole process tree), for the progress lines. */
  rss?: () => Promise<{ totalKb: number }>;
  /** Share of messages that save a fact instead of asking for context, and where acks go. */
  saves?: { share: number; ledger: SaveLedger };
}

/** One of a user's recent messages. */
export interface RecentMessage {
  message: string;
  kind: MessageKind;
  /** The plan source its first occurrence got, once answered. */
  firstSource?: string;
}

/** Each user's recent messages, which repeats are drawn from. */
export type Recent = Map<string, RecentMessage[]>;

/** A message to send: one of the user's recent ones again (`repeat`), or a new one. */
export interface Pick {
  entry: RecentMessage;
  repeat: boolean;
}

/** Runs `sessions` sessions for warm-up plus duration; returns the samples after the warm-up. */
export async function drive(
  opts: DriveOptions,
): Promise<{ samples: Sample[]; warmup: number; seconds: number }> {
  const { random } = opts;
  const users = new SessionUsers(opts.users, ZIPF_S, random);
  const recent: Recent = new Map();
  const samples: Sample[] = [];
  const started = performance.now();
  const endAt = started + (opts.warmupS + opts.durationS) * 1000;
  const progress = logProgress(opts, samples, started);
  if (!opts.healthz && opts.sessions > opts.users.length) {
    log(`note: ${opts.sessions} sessions for ${opts.users.length} users: a session waits while every user is held`); // prettier-ignore
  }

  const session = async () => {
    // Stagger the starts over one think time so sessions do not move in lockstep.
    await sleep(random() * opts.thinkMs);
    let user = opts.healthz ? undefined : users.take(random);
    while (performance.now() < endAt && !isInterrupted()) {
      const at = performance.now() - started;
      if (opts.healthz) {
        samples.push(await askHealthz(opts.url, at));
      } else if (!user) {
        user = users.take(random);
      } else if (opts.saves && random() < opts.saves.share) {
        const { ledger } = opts.saves;
        samples.push(await askSave(opts.url, user, ledger.fact(user, random), at, ledger, 'mix'));
      } else {
        const draw = drawMessage(recent.get(user.id), random);
        // A new conversation is a person starting to chat: the session hands its user back first.
        if (draw.kind === 'new_conversation' && !draw.repeat) user = users.switch(user, random)!;
        const pick = draw.repeat ? draw.repeat : newMessage(user, draw.kind, recent, random);
        samples.push(await askContext(opts.url, user, pick, at));
      }
      await sleep(opts.thinkMs * (0.5 + random()));
    }
    users.release(user);
  };

  try {
    await Promise.all(Array.from({ length: opts.sessions }, () => session()));
  } finally {
    clearInterval(progress);
  }
  const warmupMs = opts.warmupS * 1000;
  return {
    samples: samples.filter((s) => s.at >= warmupMs),
    warmup: samples.filter((s) => s.at < warmupMs).length,
    seconds: (performance.now() - started - warmupMs) / 1000,
  };
}

/**
 * What the next message is: a repeat of one of `history` (the user's recent
 * messages), or the kind of a new one, drawn from the mix.
 */
export function drawMessage(
  history: readonly RecentMessage[] | undefined,
  random: Random,
): { repeat: Pick; kind: MessageKind } | { repeat: null; kind: MessageKind } {
  if (history && history.length > 0 && random() < REPEAT_SHARE) {
    const entry = history[Math.floor(random() * history.length)]!;
    return { repeat: { entry, repeat: true }, kind: entry.kind };
  }
  const u = random();
  const kind: MessageKind =
    u < MIX.simple ? 'simple' : u < MIX.simple + MIX.complex ? 'complex' : 'new_conversation';
  return { repeat: null, kind };
}

/** A new message of `kind` from `user`'s persona, remembered among their recent ones. */
export function newMessage(
  user: SeededUser,
  kind: MessageKind,
  recent: Recent,
  random: Random,
): Pick {
  // prettier-ignore
  const message =
    kind === 'simple'
      ? simpleMessage(user.persona, random)
      : kind === 'complex'
        ? complexMessage(user.persona, random)
        : newConversationMessage(user.persona, random);
  const history = recent.get(user.id) ?? [];
  const entry: RecentMessage = { message, kind };
  history.push(entry);
  if (history.length > RECENT_PER_USER) history.shift();
  recent.set(user.id, history);
  return { entry, repeat: false };
}

/** A repeat of one of the user's recent messages, or a new one of the mix (then remembered). */
export function pickMessage(user: SeededUser, recent: Recent, random: Random): Pick {
  const draw = drawMessage(recent.get(user.id), random);
  return draw.repeat ?? newMessage(user, draw.kind, recent, random);
}

/**
 * One `POST /v1/context` of `pick` as `user`, sent `at` ms into the run. A new
 * message's answer records its plan source on the message, for its repeats.
 */
export async function askContext(
  url: string,
  user: SeededUser,
  pick: Pick,
  at: number,
): Promise<Sample> {
  const { entry, repeat } = pick;
  const { message, kind } = entry;
  const sample = {
    at,
    kind,
    user: user.id,
    repeat,
    ...(repeat ? { firstSource: entry.firstSource ?? 'unanswered' } : {}),
  };
  const t1 = performance.now();
  try {
    const b = await userClient(url, user.key).context({
      message,
      is_new_conversation: kind === 'new_conversation',
    });
    if (!repeat) entry.firstSource ??= b.plan.source;
    return {
      ...sample,
      ms: performance.now() - t1,
      ok: true,
      status: 200,
      planClass: b.plan.class,
      planSource: b.plan.source,
      ...(b.plan.fallback ? { planFallback: b.plan.fallback } : {}),
      cachePlan: b.cache.plan,
      cacheSearch: b.cache.search,
      modelCalls: b.model_calls,
      server: b.timings,
    };
  } catch (error) {
    return { ...sample, ms: performance.now() - t1, ...failedSample(error) };
  }
}

// fetch, as the floor has always been measured with, so floors of earlier reports compare.
async function askHealthz(url: string, at: number): Promise<Sample> {
  const t0 = performance.now();
  const sample = { at, kind: 'healthz' as const, repeat: false };
  try {
    const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    await res.arrayBuffer();
    return { ...sample, ms: performance.now() - t0, ok: res.ok, status: res.status };
  } catch (error) {
    return { ...sample, ms: performance.now() - t0, ok: false, status: 0, error: (error as Error).name }; // prettier-ignore
  }
}

/** Every 5 s: requests, rate and latency of the last window, errors, and the product's RSS. */
function logProgress(opts: DriveOptions, samples: Sample[], started: number) {
  let lastCount = 0;
  return setInterval(() => {
    const elapsed = (performance.now() - started) / 1000;
    const window = samples.slice(lastCount);
    lastCount = samples.length;
    const s = summarize(window.map((x) => x.ms));
    const errors = samples.filter((x) => !x.ok).length;
    const line =
      `${opts.name}: ${elapsed.toFixed(0)}/${opts.warmupS + opts.durationS}s ${samples.length} req` +
      ` (${(window.length / (PROGRESS_EVERY_MS / 1000)).toFixed(1)}/s) last p50 ${s.p50} p95 ${s.p95} ms,` +
      ` ${errors} errors`;
    // The sampler process answers; the line waits for it rather than read /proc here.
    if (!opts.rss) return log(line);
    void opts.rss().then(
      (rss) => log(`${line} peak rss (tree) ${Math.round(rss.totalKb / 1024)} MB`),
      () => log(line),
    );
  }, PROGRESS_EVERY_MS);
}
