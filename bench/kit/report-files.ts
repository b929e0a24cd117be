// What every benchmark report carries: latency figures by the project's percentile
// rule, the machine it ran on, and a `<name>-<timestamp>.{json,md}` pair of files.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { percentile } from '../../core/util/percentile.ts';
import { cleanup, log } from './lifecycle.ts';
import { PROJECT_ROOT } from './run-setup.ts';

export const REPORTS_DIR = path.join(PROJECT_ROOT, 'bench', 'reports');

/** `v` rounded to `decimals` places (two by default), as reports print figures. */
export const roundTo = (v: number, decimals = 2) => Math.round(v * 10 ** decimals) / 10 ** decimals;

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
  max: number;
}

/**
 * Latency figures (ms, two decimals unless `decimals` says otherwise) of a list
 * of samples, with the fastest too when `min`; NaN fields when empty.
 */
export function summarizeMs(values: number[], options?: { decimals?: number }): LatencySummary;
export function summarizeMs(
  values: number[],
  options: { decimals?: number; min: true },
): LatencySummary & { min: number };
export function summarizeMs(values: number[], options: { decimals?: number; min?: boolean } = {}) {
  const sorted = [...values].sort((a, b) => a - b);
  const r = (v: number) => roundTo(v, options.decimals);
  return {
    count: sorted.length,
    ...(options.min ? { min: r(sorted[0] ?? NaN) } : {}),
    p50: r(percentile(sorted, 0.5)),
    p95: r(percentile(sorted, 0.95)),
    p99: r(percentile(sorted, 0.99)),
    mean: r(sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1)),
    max: r(sorted[sorted.length - 1] ?? NaN),
  };
}

/** The machine a report was measured on. */
export function machineInfo() {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memGb: roundTo(os.totalmem() / 1024 ** 3, 1),
    platform: `${os.platform()} ${os.release()}`,
    node: process.versions.node,
  };
}

/** `<dir>/<name>-<startedAt>` (the directory created): a run's report files without their extension. */
export function reportBase(name: string, startedAt: Date, dir = REPORTS_DIR): string {
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, `${name}-${startedAt.toISOString().replace(/[:.]/g, '-')}`);
}

/** Writes `<base>.json` and `<base>.md`. */
export function writeReport(base: string, report: unknown, markdown: string): void {
  fs.writeFileSync(`${base}.json`, JSON.stringify(report, null, 2) + '\n');
  fs.writeFileSync(`${base}.md`, markdown);
}

/**
 * How a benchmark run ends: its report written to `bench/reports/<name>-<startedAt>`,
 * the Markdown printed, the product's log kept beside it when `stackLog` is given
 * (clean-up removes the run directory), everything stopped, and the path said.
 */
export async function publishReport(
  name: string,
  startedAt: Date,
  report: unknown,
  markdown: string,
  stackLog?: string,
): Promise<void> {
  const base = reportBase(name, startedAt);
  writeReport(base, report, markdown);
  console.log('\n' + markdown);
  if (stackLog) fs.copyFileSync(stackLog, `${base}.stack.log`);
  await cleanup();
  log(`report: ${base}.md (and .json)`);
}
