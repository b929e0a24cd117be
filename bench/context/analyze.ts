// What a driven run's samples add up to: latency per message class, throughput,
// model calls per message, cache hit rates per tier, why plans fell back, the
// complex messages split by whether their plan came from a cache, and how often
// a repeated complex message found its plan cached.
import { roundTo, summarizeMs } from '../bench-kit.ts';
import type { Sample } from './drive.ts';

/** The plan and search cache tiers that count as a hit. */
export const CACHE_HITS = ['l1', 'l2', 'l3'];

/** Latency figures to one decimal; null figures when there were no samples. */
export function summarize(ms: number[]) {
  const s = summarizeMs(ms, { decimals: 1 });
  return s.count > 0 ? s : { count: 0, p50: null, p95: null, p99: null, mean: null, max: null };
}

const sum = (xs: number[]) => xs.reduce((s, v) => s + v, 0);
const ratio = (a: number, b: number) => (b === 0 ? null : roundTo(a / b, 3));
const perSecond = (n: number, seconds: number) => roundTo(n / seconds, 1);

/** How many samples have each value of `key` ('?' when absent). */
function countBy(samples: Sample[], key: (s: Sample) => string | undefined) {
  const counts: Record<string, number> = {};
  for (const s of samples) counts[key(s) ?? '?'] = (counts[key(s) ?? '?'] ?? 0) + 1;
  return counts;
}

/** The floor's figures: latency, throughput and errors of `GET /healthz`. */
export function analyseFloor(samples: Sample[], seconds: number) {
  const ok = samples.filter((s) => s.ok);
  return {
    ...summarize(ok.map((s) => s.ms)),
    throughput: perSecond(ok.length, seconds),
    errors: samples.length - ok.length,
  };
}

export type Analysis = ReturnType<typeof analyse>;

/** `overall` and the caches are the context queries'; saves are a class of their own. */
export function analyse(all: Sample[], seconds: number) {
  const samples = all.filter((s) => s.kind !== 'save');
  const ok = samples.filter((s) => s.ok);
  const complexOk = ok.filter((s) => s.kind === 'complex');
  const cachedComplex = complexOk.filter((s) => CACHE_HITS.includes(s.cachePlan ?? ''));
  const uncachedComplex = complexOk.filter((s) => !cachedComplex.includes(s));
  return {
    overall: {
      ...summarize(ok.map((s) => s.ms)),
      throughput: perSecond(ok.length, seconds),
      errors: samples.length - ok.length,
      errorKinds: countBy(
        samples.filter((s) => !s.ok),
        (s) => s.error ?? String(s.status),
      ),
      modelCallsPerMessage: ratio(sum(ok.map((s) => s.modelCalls ?? 0)), ok.length),
      planSources: countBy(ok, (s) => s.planSource),
      planFallbacks: fallbackReasons(ok),
    },
    classes: Object.fromEntries(
      (['simple', 'complex', 'new_conversation', 'save'] as const).map((kind) => [
        kind,
        classFigures(
          all.filter((s) => s.kind === kind),
          seconds,
        ),
      ]),
    ),
    cache: { plan: cacheTiers(ok, 'cachePlan'), search: cacheTiers(ok, 'cacheSearch') },
    cachedComplex: summarize(cachedComplex.map((s) => s.ms)),
    uncachedComplex: summarize(uncachedComplex.map((s) => s.ms)),
    uncachedComplexWithModelCall: summarize(
      uncachedComplex.filter((s) => (s.modelCalls ?? 0) > 0).map((s) => s.ms),
    ),
    complexRepeats: repeatFigures(complexOk),
    serverTime: serverTime(ok),
    seconds: roundTo(seconds, 1),
  };
}

/**
 * Heuristic plans by why the model did not plan (`plan.fallback`: rate_limited,
 * timeout, off_schema, model_error); `no_model` when none is configured.
 */
export function fallbackReasons(ok: Sample[]) {
  return countBy(
    ok.filter((s) => s.planSource === 'heuristic'),
    (s) => s.planFallback ?? 'no_model',
  );
}

const servedFromCache = (s: Sample) => CACHE_HITS.includes(s.cachePlan ?? '');

/**
 * Repeated complex messages: how many found their plan in the plan cache, and
 * the same over those whose first occurrence got a model plan (the only plans
 * a request caches) and over those whose first occurrence was planned
 * heuristically (cached only if the model planned it since, in the background
 * or for another occurrence), with what the first occurrences got.
 */
export function repeatFigures(complexOk: Sample[]) {
  const repeats = complexOk.filter((s) => s.repeat);
  const afterModel = repeats.filter((s) => s.firstSource === 'model');
  const afterHeuristic = repeats.filter((s) => s.firstSource === 'heuristic');
  const hits = repeats.filter(servedFromCache).length;
  const hitsAfterModel = afterModel.filter(servedFromCache).length;
  return {
    count: repeats.length,
    fromCache: hits,
    hitRate: ratio(hits, repeats.length),
    firstSources: countBy(repeats, (s) => s.firstSource),
    afterModel: afterModel.length,
    afterModelFromCache: hitsAfterModel,
    afterModelHitRate: ratio(hitsAfterModel, afterModel.length),
    /** Repeats whose first occurrence was planned heuristically: cached only by a later model plan (the background one). */
    afterHeuristic: afterHeuristic.length,
    afterHeuristicFromCache: afterHeuristic.filter(servedFromCache).length,
    /** What the repeats that missed the cache got instead. */
    missedServedAs: countBy(
      repeats.filter((s) => !servedFromCache(s)),
      (s) => (s.planFallback ? `${s.planSource} (${s.planFallback})` : s.planSource),
    ),
  };
}

/** One message class: latency, throughput, errors, repeats, model calls, and how it was served. */
function classFigures(all: Sample[], seconds: number) {
  const good = all.filter((s) => s.ok);
  return {
    ...summarize(good.map((s) => s.ms)),
    throughput: perSecond(good.length, seconds),
    errors: all.length - good.length,
    repeats: all.filter((s) => s.repeat).length,
    modelCallsPerMessage: ratio(sum(good.map((s) => s.modelCalls ?? 0)), good.length),
    servedAs: countBy(good, (s) => s.planClass),
  };
}

/** A cache's answers by tier, and its hit rate over the requests that consulted it. */
function cacheTiers(ok: Sample[], field: 'cachePlan' | 'cacheSearch') {
  const counts = countBy(ok, (s) => s[field]);
  const consulted = ok.filter((s) => s[field] && s[field] !== 'off').length;
  const hits = ok.filter((s) => CACHE_HITS.includes(s[field] ?? '')).length;
  const tierRates = Object.fromEntries(
    [...CACHE_HITS, 'miss'].map((t) => [t, ratio(counts[t] ?? 0, consulted)]),
  );
  return { counts, consulted, hitRate: ratio(hits, consulted), tierRates };
}

/** The stages the product times in every context answer (`timings`), in order. */
const STAGES = ['classify', 'plan', 'retrieve', 'assemble', 'total'] as const;

/**
 * Where a context answer's time went, per class: the p50/p95 of each stage the
 * product timed itself, and of the rest of what the client waited (`outside`:
 * queueing on the product's event loop, HTTP, authentication, the rate limiter
 * and the client's own queueing). A p95 the stages do not explain is time spent
 * waiting for the event loop, not in a statement.
 */
type Figure = { p50: number | null; p95: number | null };
/** One class's stage figures (see {@link serverTime}). */
export type ClassTime = { count: number; outside: Figure } & Record<(typeof STAGES)[number], Figure>; // prettier-ignore

export function serverTime(ok: Sample[]): Record<string, ClassTime> {
  const kinds = ['simple', 'complex', 'new_conversation'] as const;
  const figure = (xs: number[]): Figure => {
    const s = summarize(xs);
    return { p50: s.p50, p95: s.p95 };
  };
  return Object.fromEntries(
    kinds.map((kind) => {
      const timed = ok.filter((s) => s.kind === kind && s.server?.total !== undefined);
      const stages = Object.fromEntries(
        STAGES.map((stage) => [stage, figure(timed.map((s) => s.server?.[stage] ?? 0))]),
      ) as Record<(typeof STAGES)[number], Figure>;
      return [kind, { count: timed.length, ...stages, outside: figure(timed.map((s) => s.ms - s.server!.total!)) }]; // prettier-ignore
    }),
  );
}
