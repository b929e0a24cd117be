// `--scale-out`: on the seeded data, the product with 1 then 2 API processes (and
// as many workers), each API process pinned to its own core. For each: how fast a
// fixed batch of memories is indexed, then the offered load (open loop) stepped up
// until the p95 of simple and cached complex queries passes 50 ms; the messages/s
// at the target, their ratio, and a check that every acknowledged save exists
// exactly once and is indexed.
import { checkInterrupted, log, mapLimit, roundTo, SETUP_CALL, userClient, type EmulatorChild, type ProductChild } from '../bench-kit.ts'; // prettier-ignore
import type { Random } from '../../core/util/seeded-random.ts';
import { CACHE_HITS, summarize } from './analyze.ts';
import { askContext, pickMessage, type Recent, type Sample } from './drive.ts';
import { pinApiProcesses, treeFigures } from './layout.ts';
import { LIMITER_OFF, processEnv, type Options } from './options.ts';
import { saturationVerdict, watchSaturation, type Saturation } from './saturation.ts';
import { askSave, SaveLedger, verifySaves } from './saves.ts';
import type { SeededUser } from './seed.ts';
import { setEmulatorLatency, startStackChild, type StackOptions } from './stack.ts';

/** The p95 the throughput is measured at, over simple and cached complex queries. */
export const SCALE_TARGET_MS = 50;
/** Each step offers this much more load than the last. */
const STEP_FACTOR = 1.25;
/** A step fails past this share of errors, or when it serves under this share of what it offered. */
const MAX_ERROR_SHARE = 0.01;
const MIN_SERVED_SHARE = 0.9;
/**
 * Seconds of load at the first rate, not counted, before the first step (at
 * least `--warmup-s`): a product just started serves its first seconds slowly
 * (JIT, empty caches and pools, the portraits its restart queued), and a cold
 * first step must not decide the run.
 */
export const SCALE_WARMUP_S = 30;

interface ScaleContext {
  o: Options;
  stack: ProductChild;
  stackOptions: StackOptions;
  emulator: EmulatorChild;
  users: SeededUser[];
  random: Random;
}

/** One step of offered load: what it served, its p95 over the target's classes, what saturated. */
export interface Step {
  offered: number;
  served: number;
  p95: number | null;
  allP95: number | null;
  errors: number;
  pass: boolean;
  saturation: Saturation;
  verdict: string;
  /** A second measurement of a rate whose first one failed. */
  retry?: boolean;
}

/** Both runs (1 and 2 API processes) and the ratio of their throughput at the target. */
export async function measureScaleOut(ctx: ScaleContext) {
  await ctx.stack.stop();
  const runs = [];
  for (const n of [1, 2]) runs.push(await scaleRun(ctx, n));
  const [one, two] = runs;
  const ratio = (a: number | null | undefined, b: number | null | undefined) =>
    a && b ? roundTo(b / a, 2) : null;
  return {
    targetMs: SCALE_TARGET_MS,
    over: 'simple + cached complex (cache.plan hit)',
    runs,
    throughputRatio: ratio(one?.atTarget, two?.atTarget),
    indexingRatio: ratio(one?.indexing.perSecond, two?.indexing.perSecond),
  };
}

async function scaleRun(ctx: ScaleContext, n: number) {
  const { o, stackOptions } = ctx;
  log(`scale-out: ${n} API process(es), ${n} worker(s)`);
  const options = { ...stackOptions, pin: false, layoutEnv: { ...stackOptions.layoutEnv, ...processEnv(n, n) } }; // prettier-ignore
  const stack = await startStackChild(options, LIMITER_OFF);
  try {
    const pinned = await pinApiProcesses(stack);
    const ledger = new SaveLedger();
    // As in seeding: the emulated model answers at once while indexing is timed, so the
    // figure is the workers' capacity, not the model's latency times its concurrency.
    await setEmulatorLatency(ctx.emulator, o.seedWithLatency, o.embedMs);
    const indexing = await timeIndexing(stack.url, ctx.users, o, ledger, ctx.random);
    await setEmulatorLatency(ctx.emulator, true, o.embedMs);
    log(`scale-out ${n}: indexed ${o.indexBatch} memories at ${indexing.perSecond}/s`);
    await ctx.emulator.resetStats();
    await offer(stack, ctx, ledger, o.startRate, Math.max(o.warmupS, SCALE_WARMUP_S)); // warm-up, not counted
    const steps: Step[] = [];
    const once = async (rate: number, retry: boolean) => {
      checkInterrupted();
      const step = {
        ...(await offer(stack, ctx, ledger, rate, o.stepS)),
        ...(retry ? { retry } : {}),
      };
      steps.push(step);
      log(`scale-out ${n}: offered ${rate}/s${retry ? ' (again)' : ''}, served ${step.served}/s, p95 ${step.p95} ms, ${step.errors} errors, load generator's loop delay p99 ${step.saturation.benchLoop.p99Ms} ms${step.pass ? '' : ` — past the target: ${step.verdict}`}`); // prettier-ignore
      return step.pass;
    };
    // A failing rate is measured once more before it ends the search: one slow
    // step on a shared machine (a GC, a checkpoint) is not the product's limit.
    const measure = async (rate: number) => (await once(rate, false)) || (await once(rate, true));
    // Up while steps pass; when the first already fails, down (halving) to find one that passes.
    let rate = o.startRate;
    if (await measure(rate)) {
      while (steps.length < 40 && (await measure((rate = roundTo(rate * STEP_FACTOR, 1)))));
    } else {
      while (rate > 1 && steps.length < 5 && !(await measure((rate = roundTo(rate / 2, 1)))));
    }
    const passing = steps.filter((s) => s.pass);
    const saves = await verifySaves(stack.url, ledger.acked, o.saveIndexWaitS);
    return {
      apiProcesses: n,
      workers: n,
      pinned,
      indexing,
      steps,
      atTarget: passing.length > 0 ? Math.max(...passing.map((s) => s.served)) : null,
      firstFailing: firstFailing(steps),
      saves,
      tree: treeFigures((await stack.peak()).tree),
    };
  } finally {
    await stack.stop();
  }
}

/** The lowest offered rate that failed both its measurements (its last one), if any. */
export function firstFailing(steps: readonly Step[]): Step | null {
  const passed = new Set(steps.filter((s) => s.pass).map((s) => s.offered));
  const failed = steps.filter((s) => !s.pass && !passed.has(s.offered));
  const lowest = Math.min(...failed.map((s) => s.offered));
  return failed.filter((s) => s.offered === lowest).at(-1) ?? null;
}

/**
 * Saves `o.indexBatch` new memories spread over the users (one batch each, four
 * users at a time, as the seeding does) and times until all are indexed.
 */
async function timeIndexing(
  url: string,
  users: SeededUser[],
  o: Options,
  ledger: SaveLedger,
  random: Random,
) {
  // prettier-ignore
  const t0 = performance.now();
  const acked = new SaveLedger();
  const per = Math.min(100, Math.ceil(o.indexBatch / users.length));
  const batches = Array.from({ length: Math.ceil(o.indexBatch / per) }, (_, i) => ({
    user: users[i % users.length]!,
    count: Math.min(per, o.indexBatch - i * per),
  }));
  await mapLimit(batches, 4, async ({ user, count }) => {
    const contents = Array.from({ length: count }, () => acked.fact(user, random));
    const saved = await userClient(url, user.key).memories.saveMany(contents.map((content) => ({ content, tags: ['batch'] })), SETUP_CALL); // prettier-ignore
    saved.ids.forEach((id, j) => acked.acked.push({ user, id, content: contents[j]!, source: 'batch' })); // prettier-ignore
  });
  const savedS = (performance.now() - t0) / 1000;
  const check = await verifySaves(url, acked.acked, 600);
  ledger.acked.push(...acked.acked);
  const seconds = savedS + (check.allIndexedAfterS ?? NaN);
  return {
    memories: o.indexBatch,
    saveSeconds: roundTo(savedS, 1),
    seconds: roundTo(seconds, 1),
    perSecond: Number.isFinite(seconds) ? roundTo(o.indexBatch / seconds, 1) : null,
    indexed: check.indexed,
  };
}

/** Offers `rate` messages/s (open loop, users drawn uniformly) for `seconds`; waits for every answer. */
async function offer(
  stack: ProductChild,
  ctx: ScaleContext,
  ledger: SaveLedger,
  rate: number,
  seconds: number,
): Promise<Step> {
  // prettier-ignore
  const { users, random, o } = ctx;
  const recent: Recent = new Map();
  const samples: Sample[] = [];
  const inFlight = new Set<Promise<void>>();
  const watch = await watchSaturation(stack, [{ name: 'emulator', pid: ctx.emulator.pid }]);
  const started = performance.now();
  let sent = 0;
  const send = () => {
    const user = users[Math.floor(random() * users.length)]!;
    const at = performance.now() - started;
    const request =
      random() < o.saveShare
        ? askSave(stack.url, user, ledger.fact(user, random), at, ledger, 'mix')
        : askContext(stack.url, user, pickMessage(user, recent, random), at);
    const p = request.then((s) => void samples.push(s)).finally(() => inFlight.delete(p));
    inFlight.add(p);
  };
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const elapsed = (performance.now() - started) / 1000;
      const due = Math.floor(Math.min(elapsed, seconds) * rate);
      for (; sent < due; sent++) send();
      if (elapsed >= seconds) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  await Promise.all([...inFlight]);
  const saturation = await watch.stop();
  return stepFigures(rate, seconds, samples, saturation);
}

function stepFigures(
  offered: number,
  seconds: number,
  samples: Sample[],
  saturation: Saturation,
): Step {
  // prettier-ignore
  const ok = samples.filter((s) => s.ok);
  const target = ok.filter(
    (s) => s.kind === 'simple' || (s.kind === 'complex' && CACHE_HITS.includes(s.cachePlan ?? '')),
  );
  const p95 = summarize(target.map((s) => s.ms)).p95;
  const errors = samples.length - ok.length;
  const served = roundTo(ok.length / seconds, 1);
  const pass =
    p95 != null &&
    p95 <= SCALE_TARGET_MS &&
    errors <= samples.length * MAX_ERROR_SHARE &&
    served >= offered * MIN_SERVED_SHARE;
  return {
    offered,
    served,
    p95,
    allP95: summarize(ok.map((s) => s.ms)).p95,
    errors,
    pass,
    saturation,
    verdict: saturationVerdict(saturation, samples),
  };
}
