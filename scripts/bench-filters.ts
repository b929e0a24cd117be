// `npm run bench:filters`: what a filter costs a search, through the API, on one user
// with 10,000 memories (bench/filter-bench.ts). Never part of `npm test`.
import fs from 'node:fs';
import { log, runBench, UsageError } from '../bench/bench-kit.ts';
import { runFilterBench, TARGET_RATIO, type FilterBenchOptions } from '../bench/filter-bench.ts';

const USAGE = `usage: npm run bench:filters -- [options]

  --memories <n>     the user's memories (default 10000)
  --rounds <n>       measured rounds, each asking every filter once (default 200)
  --warmup <n>       unmeasured rounds first (default 20)
  --env KEY=VALUE    passed to the seeding and the product; repeatable (e.g. EMBEDDER=hashing)
  --out <dir>        where the reports go (default bench/reports)`;

function parseArgs(argv: string[]): FilterBenchOptions {
  const o: FilterBenchOptions & { env: Record<string, string> } = { env: {} };
  const positive = (flag: string, value: string | undefined) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} expects a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} expects a value`);
      return v;
    };
    switch (flag) {
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      case '--memories':
        o.memories = positive(flag, value());
        break;
      case '--rounds':
        o.rounds = positive(flag, value());
        break;
      case '--warmup':
        o.warmup = Number(value());
        if (!Number.isInteger(o.warmup) || o.warmup < 0) {
          throw new UsageError('--warmup expects a whole number');
        }
        break;
      case '--out':
        o.outDir = value();
        break;
      case '--env': {
        const pair = value();
        const at = pair.indexOf('=');
        if (at < 1) throw new UsageError(`--env expects KEY=VALUE, got ${pair}`);
        o.env[pair.slice(0, at)] = pair.slice(at + 1);
        break;
      }
      default:
        throw new UsageError(`unknown option ${flag}\n${USAGE}`);
    }
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
