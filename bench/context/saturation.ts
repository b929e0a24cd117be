// What saturated first under a driven load: the CPU each process of the product's
// tree used, the machine's CPU, the product's event-loop delay (its /metrics), this
// load generator's own CPU and event-loop delay, the CPU of the benchmark's helper
// processes (the Gemini emulator, the tree sampler), and the refusals the load met.
import fs from 'node:fs';
import os from 'node:os';
import {
  cpuBetween,
  cpuTicksOf,
  LOOP_DELAY_FLAG_MS,
  ownCpuPct,
  roundTo,
  watchLoopDelay,
  type ProductChild,
} from '../bench-kit.ts';
import type { Sample } from './drive.ts';

/** A process the benchmark runs beside the product, outside its tree. */
export interface Helper {
  name: string;
  pid: number;
}

const CLOCK_TICKS = 100;

/** CPU of each helper between two readings of its ticks, as % of one core. */
function helperCpu(helpers: Helper[], before: (number | null)[], seconds: number) {
  return helpers.map((h, i) => {
    const used = (cpuTicksOf(h.pid) ?? before[i] ?? 0) - (before[i] ?? 0);
    return { ...h, cpuPct: Math.round((used / CLOCK_TICKS / seconds) * 100) };
  });
}

/** Busy and total jiffies of the whole machine (/proc/stat), every process of every user. */
function machineTicks(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((s, x) => s + x, 0);
  return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
}

/** What one API process's memory was at a `/metrics` read, MB: RSS, V8 heap used and reserved, external. */
export interface ProductMemory {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
  externalMb: number;
}

/** The product's p99 event-loop delay (ms) and memory from `/metrics`; null when it does not say. */
async function productMetrics(url: string) {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) }).catch(
    () => null,
  );
  const text = res?.ok ? await res.text() : '';
  const value = (name: string) => {
    const m = new RegExp(`^\\S*${name}\\s+(\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  const loop = value('event_loop_delay_p99_seconds');
  const mb = (name: string) => roundTo((value(name) ?? NaN) / 2 ** 20, 0);
  const memory: ProductMemory | null =
    value('memory_rss_bytes') == null
      ? null
      : {
          rssMb: mb('memory_rss_bytes'),
          heapUsedMb: mb('memory_heap_used_bytes'),
          heapTotalMb: mb('memory_heap_total_bytes'),
          externalMb: mb('memory_external_bytes'),
        };
  return { loopMs: loop == null ? null : roundTo(loop * 1000, 1), memory };
}

/**
 * Starts watching `stack`, this process and the `helpers` (the emulator; the tree
 * sampler is added); `stop()` returns what each used meanwhile.
 */
export async function watchSaturation(stack: ProductChild, extraHelpers: Helper[] = []) {
  const helpers = [...extraHelpers, { name: 'tree sampler', pid: stack.tree.pid }];
  const before = await stack.tree.sample();
  const helpers0 = helpers.map((h) => cpuTicksOf(h.pid));
  const machine0 = machineTicks();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const loop = watchLoopDelay();
  const lags: number[] = [];
  let unanswered = 0;
  let largest: ProductMemory | null = null;
  let reading = false;
  const poll = setInterval(() => {
    if (reading) return;
    reading = true;
    void productMetrics(stack.url)
      .then(({ loopMs, memory }) => {
        if (loopMs != null) lags.push(loopMs);
        else unanswered++;
        if (memory && memory.rssMb > (largest?.rssMb ?? -1)) largest = memory;
      })
      .finally(() => (reading = false));
  }, 2000);
  return {
    async stop() {
      clearInterval(poll);
      const benchLoop = loop.stop();
      const seconds = (performance.now() - t0) / 1000;
      const machine1 = machineTicks();
      const benchCpuPct = ownCpuPct(cpu0, seconds);
      const helperFigures = helperCpu(helpers, helpers0, seconds);
      const all = cpuBetween(before, await stack.tree.sample(), seconds);
      const machineCpuPct = Math.round(((machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total)) * 100); // prettier-ignore
      const productCpuPct = all.reduce((s, p) => s + p.cpuPct, 0);
      const helpersCpuPct = helperFigures.reduce((s, h) => s + h.cpuPct, 0);
      return {
        seconds: roundTo(seconds, 1),
        processes: all.slice(0, 8),
        productCpuPct,
        machineCpuPct,
        cores: os.cpus().length,
        benchCpuPct,
        /** The benchmark's helper processes (emulator, tree sampler), % of one core each. */
        helpers: helperFigures,
        helpersCpuPct,
        /** CPU (% of one core) used by processes outside the product's tree and the benchmark's: the noise. */
        foreignCpuPct: Math.max(0, machineCpuPct * os.cpus().length - productCpuPct - benchCpuPct - helpersCpuPct), // prettier-ignore
        /** This load generator's own event-loop delay (ms beyond the timer's resolution). */
        benchLoop,
        benchLoopP99Ms: benchLoop.p99Ms,
        productLoopP99MaxMs: lags.length > 0 ? Math.max(...lags) : null,
        productLoopSamples: lags.length,
        metricsUnanswered: unanswered,
        /** The API process's memory at the read where its RSS was largest. */
        productMemory: largest as ProductMemory | null,
      };
    },
  };
}

export type Saturation = Awaited<ReturnType<Awaited<ReturnType<typeof watchSaturation>>['stop']>>;

/** The first limit the load met, in one sentence, from what was watched and the samples. */
export function saturationVerdict(sat: Saturation, samples: Sample[]): string {
  const limited = samples.filter((s) => s.status === 429).length;
  const failures = samples.filter((s) => !s.ok && s.status !== 429);
  const kinds: Record<string, number> = {};
  for (const f of failures) kinds[f.error ?? String(f.status)] = (kinds[f.error ?? String(f.status)] ?? 0) + 1; // prettier-ignore
  const top = sat.processes[0];
  const findings: string[] = [];
  if (sat.machineCpuPct >= 90) {
    findings.push(`the machine's CPU (${sat.machineCpuPct} % of ${sat.cores} cores busy; the product's tree used ${sat.productCpuPct} % of one core, this load generator ${sat.benchCpuPct} %, its helpers ${sat.helpersCpuPct} %, other processes on the machine ${sat.foreignCpuPct} %)`); // prettier-ignore
  }
  if (top && top.cpuPct >= 85) findings.push(`the CPU of one process: ${top.kind} pid ${top.pid} at ${top.cpuPct} % of a core`); // prettier-ignore
  if (sat.benchCpuPct >= 85) findings.push(`the load generator's own CPU (${sat.benchCpuPct} % of a core)`); // prettier-ignore
  if ((sat.productLoopP99MaxMs ?? 0) >= 100) findings.push(`the product's event loop (p99 delay up to ${sat.productLoopP99MaxMs} ms)`); // prettier-ignore
  if (sat.benchLoop.flagged) findings.push(`the load generator's own event loop (p99 delay ${sat.benchLoop.p99Ms} ms > ${LOOP_DELAY_FLAG_MS} ms: the latencies measured include queueing in the client)`); // prettier-ignore
  if (limited > 0) findings.push(`the per-user rate limit (${limited} requests refused with 429)`);
  if (failures.length > 0) findings.push(`${failures.length} failed requests ${JSON.stringify(kinds)}`); // prettier-ignore
  if (sat.metricsUnanswered > 0) findings.push(`/metrics went unanswered ${sat.metricsUnanswered} times within 10 s`); // prettier-ignore
  return findings.length > 0
    ? `Limits met, most fundamental first: ${findings.join('; ')}.`
    : `Nothing saturated: machine CPU ${sat.machineCpuPct} %, busiest process ${top ? `${top.kind} at ${top.cpuPct} %` : 'n/a'}, no 429s or errors.`;
}

/** The report's lines on saturation of one run. */
export function saturationLines(
  sat: Saturation | undefined,
  verdict: string | undefined,
): string[] {
  if (!sat) return [];
  const procs = sat.processes.map((p) => `${p.kind} ${p.pid} ${p.cpuPct} %`).join(', ');
  const helpers = sat.helpers.map((h) => `${h.name} ${h.cpuPct} %`).join(', ');
  return [
    `Saturation: ${verdict} CPU over the run (% of one core): the product's tree ${sat.productCpuPct} % in all, busiest ${procs}; machine ${sat.machineCpuPct} % of ${sat.cores} cores (other processes ${sat.foreignCpuPct} % of one core); ` +
      `load generator ${sat.benchCpuPct} %, its helper processes ${helpers}; product event-loop p99 delay at most ${sat.productLoopP99MaxMs ?? 'n/a'} ms (${sat.productLoopSamples} reads of /metrics every 2 s, each from one API process; ${sat.metricsUnanswered} unanswered).`,
    '',
    ...memoryLines(sat.productMemory),
    loopDelayLine(sat),
    '',
  ];
}

/** Where an API process's memory was at its largest read: the V8 heap, external buffers, the rest native. */
export function memoryLines(m: ProductMemory | null | undefined): string[] {
  if (!m) return [];
  const native = m.rssMb - m.heapTotalMb - m.externalMb;
  return [
    `API process memory at its largest /metrics read: RSS ${m.rssMb} MB = V8 heap ${m.heapTotalMb} MB reserved (${m.heapUsedMb} MB used) + external ${m.externalMb} MB + ${native} MB native and other (model sessions, threads, Temporal's core, code).`, // prettier-ignore
    '',
  ];
}

/**
 * The load generator's own event-loop delay in one sentence, flagged when it may have
 * added latency, with the likely cause: its own work, or a machine too busy to run it.
 */
export function loopDelayLine(sat: Saturation): string {
  const loop = sat.benchLoop;
  const figures = `p50 ${loop.p50Ms} ms, p99 ${loop.p99Ms} ms, max ${loop.maxMs} ms`;
  if (!loop.flagged) {
    return `Load generator's own event-loop delay: ${figures} (p99 ≤ ${LOOP_DELAY_FLAG_MS} ms: the client side was not a bottleneck).`; // prettier-ignore
  }
  const cause =
    sat.benchCpuPct >= 50
      ? `it used ${sat.benchCpuPct} % of a core itself: drive fewer sessions per process`
      : sat.machineCpuPct >= 90
        ? `it used only ${sat.benchCpuPct} % of a core, but the machine's CPU was ${sat.machineCpuPct} % busy, so it waited to be scheduled: measure on a quieter machine`
        : `it used ${sat.benchCpuPct} % of a core and the machine was ${sat.machineCpuPct} % busy`;
  return `**Client side was a bottleneck**: the load generator's own event-loop delay was ${figures} (p99 above ${LOOP_DELAY_FLAG_MS} ms), so the latencies above include up to that much queueing in the client; ${cause}.`; // prettier-ignore
}
