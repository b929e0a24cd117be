// `npm run bench:import -- [--memories N]`: issue #17's import and export figures
// (bench/import-bench.ts) on a fresh product started for the run. Never part of `npm test`.
import fs from 'node:fs';
import { log, runBench, UsageError } from '../bench/bench-kit.ts';
import { runImportBench, type ImportBenchOptions } from '../bench/import-bench.ts';

const USAGE = `usage: npm run bench:import -- [options]

  --memories <n>      lines in the imported file (default 100000)
  --out <dir>         where the reports go (default bench/reports)
  --env KEY=VALUE     passed to the product; repeatable (e.g. EMBEDDER=hashing)`;

function parseArgs(argv: string[]): ImportBenchOptions {
  const o: ImportBenchOptions = { memories: 100_000, env: {} };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${arg} expects a value`);
      return v;
    };
    if (arg === '--help' || arg === '-h') {
      console.log(USAGE);
      process.exit(0);
    } else if (arg === '--memories') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 1)
        throw new UsageError('--memories expects a positive integer');
      o.memories = n;
    } else if (arg === '--out') {
      o.outDir = value();
    } else if (arg === '--env') {
      const pair = value();
      const at = pair.indexOf('=');
      if (at < 1) throw new UsageError(`--env expects KEY=VALUE, got ${pair}`);
      o.env![pair.slice(0, at)] = pair.slice(at + 1);
    } else {
      throw new UsageError(`unknown option ${arg}\n${USAGE}`);
    }
  }
  return o;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const report = await runImportBench({
    ...options,
    command: `npm run bench:import -- ${process.argv.slice(2).join(' ')}`.trim(),
  });
  console.log('\n' + fs.readFileSync(report.files.markdown, 'utf8'));
  log(`report: ${report.files.markdown} (and .json)`);
}

runBench('bench-import', main);
