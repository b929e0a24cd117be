/*
usage: npm run bench:isolation -- [options]

Whether one user's expensive requests slow another's (bench/isolation-bench.ts): a
user with many memories searching at the rate limit beside a user with few, on a
fresh product started for the run. Never part of `npm test`.

  --memories <n>      the heavy user's memories (default 200000)
  --rate <n>          the heavy user's searches a second (default 20)
  --out <dir>         where the reports go (default bench/reports)
  --env KEY=VALUE     passed to the product; repeatable (e.g. EMBEDDER=hashing,
                      USER_CONCURRENCY=10000 to see the product without per-user turns)
*/
import fs from 'node:fs';
import { log, runBench, UsageError } from '../bench/bench-kit.ts';
import { runIsolationBench, type IsolationBenchOptions } from '../bench/isolation-bench.ts';
import { addEnvPair, benchOptions, wholeNumber } from '../bench/kit/bench-cli.ts';

function parseArgs(argv: readonly string[]): IsolationBenchOptions {
  const o: IsolationBenchOptions & { env: Record<string, string> } = {
    memories: 200_000,
    rate: 20,
    env: {},
  };
  for (const { flag, value } of benchOptions(argv, import.meta.url)) {
    if (flag === '--memories') o.memories = wholeNumber(flag, value(), 1);
    else if (flag === '--rate') o.rate = wholeNumber(flag, value(), 1);
    else if (flag === '--out') o.outDir = value();
    else if (flag === '--env') addEnvPair(o.env, flag, value());
    else throw new UsageError(`unknown option ${flag} (see --help)`);
  }
  return o;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const report = await runIsolationBench({
    ...options,
    command: `npm run bench:isolation -- ${process.argv.slice(2).join(' ')}`.trim(),
  });
  console.log('\n' + fs.readFileSync(report.files.markdown, 'utf8'));
  log(`report: ${report.files.markdown} (and .json)`);
}

runBench('bench-isolation', main);
