// `npm run bench:quality -- --data <LoCoMo JSON>`: evidence recall of /v1/search and
// /v1/context on LoCoMo-format conversations (bench/quality-bench.ts), on a fresh
// product started for the run. Never part of `npm test`.
import fs from 'node:fs';
import path from 'node:path';
import { log, PROJECT_ROOT, runBench, UsageError } from '../bench/bench-kit.ts';
import { runQualityBench, type QualityBenchOptions } from '../bench/quality-bench.ts';

const USAGE = `usage: npm run bench:quality -- (--data <file> | --fixture) [options]

  --data <file>               a LoCoMo-format JSON (e.g. ../shared/data/locomo/locomo-dev.json)
  --fixture                   the project's small fixture (test/fixtures/locomo-mini.json)
  --limit-conversations <n>   only the first n conversations
  --out <dir>                 where the reports go (default bench/reports)
  --env KEY=VALUE             passed to the product; repeatable (e.g. to switch the embedder)
  --concurrency <n>           questions in flight at once (default 4)
  --no-pin                    let the product use every core (default: pinned to core 0)`;

function parseArgs(argv: string[]): QualityBenchOptions {
  const o: QualityBenchOptions & { data: string } = { data: '', env: {} };
  const positive = (flag: string, value: string | undefined) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} expects a positive integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const [flag, inline] = arg.startsWith('--') && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined]; // prettier-ignore
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new UsageError(`${flag} expects a value`);
      return v;
    };
    switch (flag) {
      case '--help':
      case '-h':
        console.log(USAGE);
        process.exit(0);
        break;
      case '--data':
        o.data = value();
        break;
      case '--fixture':
        o.data = path.join(PROJECT_ROOT, 'test', 'fixtures', 'locomo-mini.json');
        break;
      case '--limit-conversations':
        o.limitConversations = positive(flag, value());
        break;
      case '--out':
        o.outDir = value();
        break;
      case '--no-pin':
        o.noPin = true;
        break;
      case '--concurrency':
        o.concurrency = positive(flag, value());
        break;
      case '--env': {
        const pair = value();
        const at = pair.indexOf('=');
        if (at < 1) throw new UsageError(`--env expects KEY=VALUE, got ${pair}`);
        o.env![pair.slice(0, at)] = pair.slice(at + 1);
        break;
      }
      default:
        throw new UsageError(`unknown option ${arg}\n${USAGE}`);
    }
  }
  if (!o.data) throw new UsageError(`--data (or --fixture) is required\n${USAGE}`);
  return o;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const report = await runQualityBench({
    ...options,
    command: `npm run bench:quality -- ${process.argv.slice(2).join(' ')}`,
  });
  console.log('\n' + fs.readFileSync(report.files.markdown, 'utf8'));
  const { search, context } = report;
  log(
    `recall@5/@10 over ${search.recall.overall.questions} questions: ` +
      `search ${search.recall.overall.at5}/${search.recall.overall.at10}, ` +
      `context ${context.recall.overall.at5}/${context.recall.overall.at10}`,
  );
  const { fast, planned } = context.paths;
  log(
    `context recall@5 by path: fast (depth 1) ${fast.recall.overall.at5}, ` +
      `planned (depth 3) ${planned.recall.overall.at5}`,
  );
  log(`report: ${report.files.markdown} (and .json)`);
}

runBench('bench-quality', main);
