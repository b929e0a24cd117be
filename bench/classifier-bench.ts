/**
 * Measures the query classifier on the labeled fixture: precision and recall
 * of "simple", the share of traffic it sends down the fast path, and the
 * per-message classification time over many passes.
 *
 * Run: node --import tsx bench/classifier-bench.ts [passes]
 */
import { readFileSync } from 'node:fs';
import { classifyMessage } from '../core/classification/query-classifier.ts';
import { percentile } from '../core/util/percentile.ts';

interface LabeledMessage {
  message: string;
  label: 'simple' | 'complex';
  needs_context: boolean;
}

const WARMUP_PASSES = 10;
const DEFAULT_PASSES = 100;
const BUDGET_MICROS = 1000;

async function main(): Promise<void> {
  const fixture = JSON.parse(
    readFileSync(new URL('../test/fixtures/classifier-messages.json', import.meta.url), 'utf8'),
  ) as LabeledMessage[];
  const passes = Number(process.argv[2] ?? DEFAULT_PASSES);
  if (!Number.isInteger(passes) || passes < 1)
    throw new Error(`bad pass count: ${process.argv[2]}`);

  let truePositives = 0;
  let predicted = 0;
  let labeledSimple = 0;
  const reasons = new Map<string, number>();
  for (const { message, label } of fixture) {
    const { kind, reason } = classifyMessage(message);
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    if (label === 'simple') labeledSimple++;
    if (kind === 'simple') predicted++;
    if (kind === 'simple' && label === 'simple') truePositives++;
  }

  for (let pass = 0; pass < WARMUP_PASSES; pass++) {
    for (const { message } of fixture) classifyMessage(message);
  }
  const samples = new Float64Array(passes * fixture.length);
  let index = 0;
  const started = process.hrtime.bigint();
  for (let pass = 0; pass < passes; pass++) {
    for (const { message } of fixture) {
      const before = process.hrtime.bigint();
      classifyMessage(message);
      samples[index++] = Number(process.hrtime.bigint() - before) / 1000;
    }
  }
  const wallMicros = Number(process.hrtime.bigint() - started) / 1000;
  samples.sort();
  const mean = samples.reduce((sum, s) => sum + s, 0) / samples.length;
  const p99 = percentile(samples, 0.99);

  console.log(`query classifier on ${fixture.length} labeled messages`);
  console.log(`  precision (simple) ${(truePositives / predicted).toFixed(3)}`);
  console.log(`  recall (simple)    ${(truePositives / labeledSimple).toFixed(3)}`);
  console.log(`  share simple       ${(predicted / fixture.length).toFixed(3)}`);
  console.log(`  reasons            ${[...reasons].map(([r, n]) => `${r}=${n}`).join(' ')}`);
  console.log(`per-message time over ${passes} passes (${samples.length} calls, µs)`);
  console.log(
    `  mean ${mean.toFixed(2)}  p50 ${percentile(samples, 0.5).toFixed(2)}  p99 ${p99.toFixed(2)}` +
      `  max ${percentile(samples, 1).toFixed(2)}  (wall mean incl. timer ${(wallMicros / samples.length).toFixed(2)})`,
  );
  console.log(`  budget ${BUDGET_MICROS} µs: ${p99 < BUDGET_MICROS ? 'ok' : 'EXCEEDED'}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
