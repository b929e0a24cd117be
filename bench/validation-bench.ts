/**
 * Micro-benchmark of request validation alone: `parseInput` (api/validation.ts,
 * the text walk and then the route's schema) over realistic bodies of
 * `POST /v1/context` and `POST /v1/memories` (one memory, and a batch of 20),
 * built from the context benchmark's corpus with the product's default limits.
 * Prints p50/p95/p99 and the mean per call in ms; writes no report. The context
 * benchmark runs the same measurement with `--limiter-compare`.
 *
 * Run: npx tsx bench/validation-bench.ts [--calls 200000] [--seed 1]
 */
import { seededRandom } from '../core/util/seeded-random.ts';
import { cliOptions } from '../scripts/cli-options.ts';
import { runBench, UsageError } from './bench-kit.ts';
import { measureValidation } from './validation/measure.ts';

function parseArgs(argv: string[]) {
  const o = { calls: 200_000, seed: 1 };
  for (const { flag, value } of cliOptions(argv, import.meta.url)) {
    if (flag !== '--calls' && flag !== '--seed') throw new UsageError(`unknown option ${flag} (see --help)`); // prettier-ignore
    const n = Number(value());
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} expects a whole number ≥ 1`);
    o[flag === '--calls' ? 'calls' : 'seed'] = n;
  }
  return o;
}

function main(): Promise<void> {
  const o = parseArgs(process.argv.slice(2));
  const figures = measureValidation(o.calls, seededRandom(o.seed));
  console.log('| body | calls | p50 ms | p95 ms | p99 ms | mean ms |');
  console.log('|---|---|---|---|---|---|');
  for (const f of figures) {
    console.log(`| ${f.body} | ${f.calls} | ${f.p50} | ${f.p95} | ${f.p99} | ${f.mean} |`);
  }
  return Promise.resolve();
}

runBench('validation-bench', main);
