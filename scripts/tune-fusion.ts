// `npm run tune:fusion -- --data <LoCoMo dir or file>`: chooses the fusion's constants
// by leave-one-conversation-out cross-validation on the development split, with the
// product's retrievers in this process (bench/quality/tune/). Never part of `npm test`.
import fs from 'node:fs';
import { log, runBench, UsageError } from '../bench/bench-kit.ts';
import { runTuneFusion, type TuneFusionOptions } from '../bench/quality/tune/tune-fusion.ts';
import { cliOptions } from './cli-options.ts';

const USAGE = `usage: npm run tune:fusion -- --data <dir or file> [options]

  --data <dir or file>        a LoCoMo-format JSON, or a directory holding locomo-dev.json
  --cache <file>              the retrieved answers of an earlier run (<report>.retrieved.json):
                              sweep again without indexing and retrieving
  --limit-conversations <n>   only the first n conversations
  --out <dir>                 where the reports go (default bench/reports)
  --env KEY=VALUE             passed to the product's adapters; repeatable (e.g. EMBEDDER=minilm)
  --concurrency <n>           questions retrieved at once (default 4)`;

function parseArgs(argv: string[]): TuneFusionOptions {
  const o: TuneFusionOptions = { data: '', env: {} };
  const positive = (flag: string, value: string) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} expects a positive integer`);
    return n;
  };
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    process.exit(0);
  }
  for (const { flag, value } of cliOptions(argv, import.meta.url)) {
    if (flag === '--data') o.data = value();
    else if (flag === '--cache') o.cache = value();
    else if (flag === '--limit-conversations') o.limitConversations = positive(flag, value());
    else if (flag === '--out') o.outDir = value();
    else if (flag === '--concurrency') o.concurrency = positive(flag, value());
    else if (flag === '--env') {
      const pair = value();
      const at = pair.indexOf('=');
      if (at < 1) throw new UsageError(`--env expects KEY=VALUE, got ${pair}`);
      o.env![pair.slice(0, at)] = pair.slice(at + 1);
    } else throw new UsageError(`unknown option ${flag}\n${USAGE}`);
  }
  if (!o.data && !o.cache) throw new UsageError(`--data (or --cache) is required\n${USAGE}`);
  if (o.data && !fs.existsSync(o.data)) throw new UsageError(`--data: ${o.data} does not exist`);
  return o;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const report = await runTuneFusion({
    ...options,
    command: `npm run tune:fusion -- ${process.argv.slice(2).join(' ')}`,
  });
  console.log('\n' + fs.readFileSync(report.files.markdown, 'utf8'));
  const cv = report.crossValidated.withTime.overall;
  log(`held-out recall@10 ${cv.at10} (@5 ${cv.at5}) over ${cv.questions} questions`);
  if (report.context) {
    const context = report.context.crossValidated.chosen.overall;
    log(`context: held-out recall@10 ${context.at10} (@5 ${context.at5}); recent weight to ship ${report.context.chosen.toShip}`); // prettier-ignore
  }
  log(`report: ${report.files.markdown} (and .json)`);
}

runBench('tune-fusion', main);
