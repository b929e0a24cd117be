// The measured part of the context benchmark: the floor once, then each pipeline on a
// fresh product process over the same data, driven for the same duration.
import {
  checkInterrupted,
  log,
  roundTo,
  type EmulatorChild,
  type Json,
  type ProductChild,
} from '../bench-kit.ts';
import type { Random } from '../../core/util/seeded-random.ts';
import { analyse, analyseFloor } from './analyze.ts';
import { drive } from './drive.ts';
import { busiestUserBound, limiterFigures, userRatePolicy, type DrivenRun } from './limiter.ts';
import { LIMITER_OFF, NAIVE_SWITCHES, type Options } from './options.ts';
import { treeFigures } from './layout.ts';
import { saturationVerdict, watchSaturation } from './saturation.ts';
import { SaveLedger, startSaveStream, verifySaves } from './saves.ts';
import type { SeededUser } from './seed.ts';
import { startStackChild, type StackOptions } from './stack.ts';

export type PipelineName = 'optimized' | 'optimized-nolimit' | 'optimized-again' | 'naive';

/** The environment of the naive pipeline: every switch off, and no model limit unless asked. */
export function naiveSwitches(o: Options): Record<string, string> {
  return o.naiveModelLimit
    ? NAIVE_SWITCHES
    : { ...NAIVE_SWITCHES, MODEL_RATE_PER_S: '10000', MODEL_BURST: '10000' };
}

/**
 * Stops `stack` (the seeding's), then measures the floor and the pipelines `o.only`
 * asks for, each on a fresh product process so its peak RSS is that of the load alone.
 * With `o.limiterCompare`, the optimized pipeline is then measured with the rate
 * limiter off (`optimized-nolimit`) and once more with it on (`optimized-again`):
 * on, off, on, so the caches warming from run to run do not favour either side.
 */
export async function measurePipelines(opts: {
  o: Options;
  stack: ProductChild;
  stackOptions: StackOptions;
  emulator: EmulatorChild;
  users: SeededUser[];
  random: Random;
}) {
  const { o, emulator, users, random } = opts;
  let stack = opts.stack;
  const pipelines: Record<string, Json> = {};
  const driven: Partial<Record<PipelineName, DrivenRun>> = {};
  let floor: Json | undefined;
  const load = { users, sessions: o.sessions, thinkMs: o.thinkMs, random };
  const bound = busiestUserBound(o, users.length);
  const limit = userRatePolicy();
  if (bound > limit.perSecond) {
    log(
      `note: the busiest user may send up to ~${bound} req/s (instant answers), above the` +
        ` per-user limit of ${limit.perSecond}/s (burst ${limit.burst}); 429s count as errors`,
    );
  }
  const runPipeline = async (name: PipelineName, switches: Record<string, string>) => {
    await stack.stop();
    log(`starting the ${name} stack on the same data`);
    stack = await startStackChild(opts.stackOptions, switches);
    if (!floor) {
      log(`floor: GET /healthz for ${o.floorS} s`);
      const f = await drive({ ...load, name: 'floor', url: stack.url, durationS: o.floorS, warmupS: 0, healthz: true }); // prettier-ignore
      floor = analyseFloor(f.samples, f.seconds);
    }
    await emulator.resetStats();
    log(`${name}: ${o.sessions} sessions for ${o.durationS} s${o.saveRate > 0 ? `, ${o.saveRate} saves/s in the background` : ''}`); // prettier-ignore
    const ledger = new SaveLedger();
    const watch = await watchSaturation(stack, [{ name: 'emulator', pid: emulator.pid }]);
    const stream = startSaveStream({ url: stack.url, users, rate: o.saveRate, random, ledger, started: performance.now() }); // prettier-ignore
    const run = await drive({ ...load, name, url: stack.url, durationS: o.durationS, warmupS: o.warmupS, rss: async () => (await stack.peak()).tree, saves: { share: o.saveShare, ledger } }); // prettier-ignore
    const streamed = (await stream.stop()).filter((x) => x.at >= o.warmupS * 1000);
    const saturation = await watch.stop();
    checkInterrupted();
    const peak = await stack.peak();
    const sampler = await stack.tree.cost();
    log(`${name}: checking ${ledger.acked.length} acknowledged saves (indexed within ${o.saveIndexWaitS} s?)`); // prettier-ignore
    const saves = await verifySaves(stack.url, ledger.acked, o.saveIndexWaitS);
    const figures = {
      switches,
      warmupMessages: run.warmup,
      ...analyse(run.samples, run.seconds),
      peakRssMb: Math.round(Math.max(peak.rssKb, peak.hwmKb) / 1024),
      vmHwmMb: Math.round(peak.hwmKb / 1024),
      tree: treeFigures(peak.tree),
      backgroundSaves: o.saveRate > 0 ? { rate: o.saveRate, ...analyse(streamed, run.seconds).classes.save } : null, // prettier-ignore
      saves,
      saturation,
      saturationVerdict: saturationVerdict(saturation, [...run.samples, ...streamed]),
      emulator: await emulator.stats(),
      treeSampler: { samples: sampler.samples, meanMs: roundTo(sampler.totalMs / Math.max(1, sampler.samples), 1), maxMs: roundTo(sampler.maxMs, 1) }, // prettier-ignore
    };
    pipelines[name] = figures;
    if (o.limiterCompare) driven[name] = run;
    log(
      `${name}: ${run.samples.length} messages, mean ${figures.overall.mean} ms, p95 ${figures.overall.p95} ms,` +
        ` ${figures.overall.modelCallsPerMessage} model calls/msg, peak RSS ${figures.peakRssMb} MB (tree ${figures.tree.totalMb} MB),` +
        ` load generator's loop delay p99 ${saturation.benchLoop.p99Ms} ms${saturation.benchLoop.flagged ? ' (FLAGGED: client-side bottleneck)' : ''}`,
    );
  };
  if (o.only !== 'naive') await runPipeline('optimized', {});
  if (o.limiterCompare) {
    await runPipeline('optimized-nolimit', LIMITER_OFF);
    await runPipeline('optimized-again', {});
  }
  if (o.only !== 'optimized') await runPipeline('naive', naiveSwitches(o));
  await stack.stop();
  const { optimized, 'optimized-nolimit': off, 'optimized-again': again } = driven;
  const limiter =
    optimized && off && again
      ? { on: limiterFigures([optimized, again]), off: limiterFigures([off]) }
      : undefined;
  return { floor, pipelines, limiter };
}
