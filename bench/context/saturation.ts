// What saturated first under a driven load: the CPU each process of the product's
// tree used, the machine's CPU, the product's event-loop delay (its /metrics), this
// load generator's own CPU and event-loop delay, and the refusals the load met.
import fs from 'node:fs';
import os from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { cpuBetween, ownCpuPct, roundTo, type ProductChild } from '../bench-kit.ts';
import type { Sample } from './drive.ts';

/** Busy and total jiffies of the whole machine (/proc/stat), every process of every user. */
function machineTicks(): { busy: number; total: number } {
  const line = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const total = v.reduce((s, x) => s + x, 0);
  return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
}

/** The product's p99 event-loop delay (ms) from `/metrics`; null when it does not say. */
async function productLoopDelayMs(url: string): Promise<number | null> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(5000) }).catch(
    () => null,
  );
  const text = res?.ok ? await res.text() : '';
  const m = /^\S*event_loop_delay_p99_seconds\s+(\S+)$/m.exec(text);
  return m ? roundTo(Number(m[1]) * 1000, 1) : null;
}

/** Starts watching `stack` and this process; `stop()` returns what each used meanwhile. */
export function watchSaturation(stack: ProductChild) {
  const before = stack.tree.sample();
  const machine0 = machineTicks();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const lags: number[] = [];
  let unanswered = 0;
  let reading = false;
  const poll = setInterval(() => {
    if (reading) return;
    reading = true;
    void productLoopDelayMs(stack.url)
      .then((ms) => (ms != null ? lags.push(ms) : unanswered++))
      .finally(() => (reading = false));
  }, 2000);
  return {
    stop() {
      clearInterval(poll);
      loop.disable();
      const seconds = (performance.now() - t0) / 1000;
      const machine1 = machineTicks();
      const all = cpuBetween(before, stack.tree.sample(), seconds);
      const machineCpuPct = Math.round(((machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total)) * 100); // prettier-ignore
      const productCpuPct = all.reduce((s, p) => s + p.cpuPct, 0);
      const benchCpuPct = ownCpuPct(cpu0, seconds);
      return {
        seconds: roundTo(seconds, 1),
        processes: all.slice(0, 8),
        productCpuPct,
        machineCpuPct,
        cores: os.cpus().length,
        benchCpuPct,
        /** CPU (% of one core) used by processes outside the product's tree and this one: the noise. */
        foreignCpuPct: Math.max(0, machineCpuPct * os.cpus().length - productCpuPct - benchCpuPct),
        benchLoopP99Ms: roundTo(loop.percentile(99) / 1e6, 1),
        productLoopP99MaxMs: lags.length > 0 ? Math.max(...lags) : null,
        productLoopSamples: lags.length,
        metricsUnanswered: unanswered,
      };
    },
  };
}

export type Saturation = ReturnType<ReturnType<typeof watchSaturation>['stop']>;

/** The first limit the load met, in one sentence, from what was watched and the samples. */
export function saturationVerdict(sat: Saturation, samples: Sample[]): string {
  const limited = samples.filter((s) => s.status === 429).length;
  const failures = samples.filter((s) => !s.ok && s.status !== 429);
  const kinds: Record<string, number> = {};
  for (const f of failures) kinds[f.error ?? String(f.status)] = (kinds[f.error ?? String(f.status)] ?? 0) + 1; // prettier-ignore
  const top = sat.processes[0];
  const findings: string[] = [];
  if (sat.machineCpuPct >= 90) {
    const ours = sat.productCpuPct + sat.benchCpuPct;
    findings.push(`the machine's CPU (${sat.machineCpuPct} % of ${sat.cores} cores busy; the product's tree and this load generator used ${ours} % of one core, other processes on the machine ${sat.foreignCpuPct} %)`); // prettier-ignore
  }
  if (top && top.cpuPct >= 85) findings.push(`the CPU of one process: ${top.kind} pid ${top.pid} at ${top.cpuPct} % of a core`); // prettier-ignore
  if (sat.benchCpuPct >= 85) findings.push(`the load generator's own CPU (${sat.benchCpuPct} % of a core)`); // prettier-ignore
  if ((sat.productLoopP99MaxMs ?? 0) >= 100) findings.push(`the product's event loop (p99 delay up to ${sat.productLoopP99MaxMs} ms)`); // prettier-ignore
  if (sat.benchLoopP99Ms >= 50) findings.push(`the load generator's event loop (p99 delay ${sat.benchLoopP99Ms} ms: its latencies include queueing of its own)`); // prettier-ignore
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
  return [
    `Saturation: ${verdict} CPU over the run (% of one core): the product's tree ${sat.productCpuPct} % in all, busiest ${procs}; machine ${sat.machineCpuPct} % of ${sat.cores} cores (other processes ${sat.foreignCpuPct} % of one core); ` +
      `load generator ${sat.benchCpuPct} % (event-loop p99 ${sat.benchLoopP99Ms} ms); product event-loop p99 delay at most ${sat.productLoopP99MaxMs ?? 'n/a'} ms (${sat.productLoopSamples} reads of /metrics every 2 s, each from one API process; ${sat.metricsUnanswered} unanswered).`,
    '',
  ];
}
