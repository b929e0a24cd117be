/*
usage: npm run bench:filters -- [options]

What a filter costs a search, through the API, on one user with 10,000 memories
(bench/filter-bench.ts). Never part of `npm test`.

  --memories <n>     the user's memories (default 10000)
  --rounds <n>       measured rounds, each asking every filter once (default 200)
  --warmup <n>       unmeasured rounds first (default 20)
  --env KEY=VALUE    passed to the seeding and the product; repeatable (e.g. EMBEDDER=hashing)
  --out <dir>        where the reports go (default bench/reports)
*/
import fs from 'node:fs';
import { log, runBench, UsageError } from '../bench/bench-kit.ts';
import { runFilterBench, TARGET_RATIO, type FilterBenchOptions } from '../bench/filter-bench.ts';
import { addEnvPair, benchOptions, wholeNumber } from '../bench/kit/bench-cli.ts';

function parseArgs(argv: readonly string[]): FilterBenchOptions {
  const o: FilterBenchOptions & { env: Record<string, string> } = { env: {} };
  for (const { flag, value } of benchOptions(argv, import.meta.url)) {
    if (flag === '--memories') o.memories = wholeNumber(flag, value(), 1);
    else if (flag === '--rounds') o.rounds = wholeNumber(flag, value(), 1);
    else if (flag === '--warmup') o.warmup = wholeNumber(flag, value(), 0);
    else if (flag === '--out') o.outDir = value();
    else if (flag === '--env') addEnvPair(o.env, flag, value());
    else throw new UsageError(`unknown option ${flag} (see --help)`);
  }
  return o;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const report = await runFilterBench({
    ...options,
    command: `npm run bench:filters -- ${process.argv.slice(2).join(' ')}`.trim(),
  });
  console.log('\n' + fs.readFileSync(report.files.markdown, 'utf8'));
  log(`worst p95 ratio ${report.worstRatio} (target ≤ ${TARGET_RATIO})`);
  log(`report: ${report.files.markdown} (and .json)`);
}

runBench('bench-filters', main);
