// Driving the product with chat sessions: each session picks a user by Zipf
// activity, sends a new or repeated message of the mix to `POST /v1/context` (or
// `GET /healthz` for the floor), records what the answer says it cost, and thinks.
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
  zipfSampler,
  type MessageKind,
} from '../../loadtest/context-corpus.ts';
import { summarize } from './analyze.ts';
import { askSave, type SaveLedger } from './saves.ts';
import { MIX, PROGRESS_EVERY_MS, RECENT_PER_USER, REPEAT_SHARE, ZIPF_S } from './options.ts';
import type { SeededUser } from './seed.ts';

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
  cachePlan?: string;
  cacheSearch?: string;
  modelCalls?: number;
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

/** Each user's recent messages, which repeats are drawn from. */
export type Recent = Map<string, { message: string; kind: MessageKind }[]>;

/** Runs `sessions` sessions for warm-up plus duration; returns the samples after the warm-up. */
export async function drive(
  opts: DriveOptions,
): Promise<{ samples: Sample[]; warmup: number; seconds: number }> {
  const { random } = opts;
  const zipf = zipfSampler(opts.users.length, ZIPF_S, random);
  // Rank order is shuffled so the most active users are not simply the first seeded.
  const order = opts.users.map((_, i) => i).sort(() => random() - 0.5);
  const recent: Recent = new Map();
  const samples: Sample[] = [];
  const started = performance.now();
  const endAt = started + (opts.warmupS + opts.durationS) * 1000;
  const progress = logProgress(opts, samples, started);

  const session = async () => {
    // Stagger the starts over one think time so sessions do not move in lockstep.
    await sleep(random() * opts.thinkMs);
    while (performance.now() < endAt && !isInterrupted()) {
      const user = opts.users[order[zipf()]!]!;
      const t0 = performance.now();
      const at = t0 - started;
      if (opts.healthz) {
        samples.push(await askHealthz(opts.url, at));
      } else if (opts.saves && random() < opts.saves.share) {
        const { ledger } = opts.saves;
        samples.push(await askSave(opts.url, user, ledger.fact(user, random), at, ledger, 'mix'));
      } else {
        const pick = pickMessage(user, recent, random);
        samples.push(await askContext(opts.url, user, pick, at));
      }
      await sleep(opts.thinkMs * (0.5 + random()));
    }
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

/** A repeat of one of the user's recent messages, or a new one of the mix (then remembered). */
export function pickMessage(user: SeededUser, recent: Recent, random: Random) {
  const history = recent.get(user.id) ?? [];
  if (history.length > 0 && random() < REPEAT_SHARE) {
    return { ...history[Math.floor(random() * history.length)]!, repeat: true };
  }
  const u = random();
  const kind: MessageKind =
    u < MIX.simple ? 'simple' : u < MIX.simple + MIX.complex ? 'complex' : 'new_conversation';
  const message =
    kind === 'simple'
      ? simpleMessage(user.persona, random)
      : kind === 'complex'
        ? complexMessage(user.persona, random)
        : newConversationMessage(user.persona, random);
  history.push({ message, kind });
  if (history.length > RECENT_PER_USER) history.shift();
  recent.set(user.id, history);
  return { message, kind, repeat: false };
}

/** One `POST /v1/context` of `pick` as `user`, sent `at` ms into the run. */
export async function askContext(
  url: string,
  user: SeededUser,
  pick: { message: string; kind: MessageKind; repeat: boolean },
  at: number,
): Promise<Sample> {
  const { message, kind, repeat } = pick;
  const sample = { at, kind, user: user.id, repeat };
  const t1 = performance.now();
  try {
    const b = await userClient(url, user.key).context({
      message,
      is_new_conversation: kind === 'new_conversation',
    });
    return {
      ...sample,
      ms: performance.now() - t1,
      ok: true,
      status: 200,
      planClass: b.plan.class,
      planSource: b.plan.source,
      cachePlan: b.cache.plan,
      cacheSearch: b.cache.search,
      modelCalls: b.model_calls,
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
