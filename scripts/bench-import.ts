/*
usage: npm run bench:import -- [options]

Issue #17's import and export figures (bench/import-bench.ts) on a fresh product
started for the run. Never part of `npm test`.

  --memories <n>      lines in the imported file (default 100000)
  --out <dir>         where the reports go (default bench/reports)
  --env KEY=VALUE     passed to the product; repeatable (e.g. EMBEDDER=hashing)
*/
import fs from 'node:fs';
import { log, runBench, UsageError } from '../bench/bench-kit.ts';
import { runImportBench, type ImportBenchOptions } from '../bench/import-bench.ts';
import { addEnvPair, benchOptions, wholeNumber } from '../bench/kit/bench-cli.ts';

function parseArgs(argv: readonly string[]): ImportBenchOptions {
  const o: ImportBenchOptions & { env: Record<string, string> } = { memories: 100_000, env: {} };
  for (const { flag, value } of benchOptions(argv, import.meta.url)) {
    if (flag === '--memories') o.memories = wholeNumber(flag, value(), 1);
    else if (flag === '--out') o.outDir = value();
    else if (flag === '--env') addEnvPair(o.env, flag, value());
    else throw new UsageError(`unknown option ${flag} (see --help)`);
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
