import { cliOptions } from '../../scripts/cli-options.ts';

/** The target of the issue: MCP adds at most this much at p95. */
export const TARGET_MS = 5;

export interface Options {
  rounds: number;
  memories: number;
  seed: number;
}

const NUMERIC: Record<string, keyof Options> = {
  '--rounds': 'rounds',
  '--memories': 'memories',
  '--seed': 'seed',
};

/** The command line of `npm run bench -- --scenario mcp` (see bench/mcp-bench.ts). */
export function parseArgs(argv: string[]): Options {
  const o: Options = { rounds: 10, memories: 60, seed: 1 };
  const usage = new URL('../mcp-bench.ts', import.meta.url).href;
  for (const { flag, value } of cliOptions(argv, usage)) {
    const key = NUMERIC[flag];
    if (!key) throw new Error(`unknown option ${flag} (see --help)`);
    const n = Number(value());
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} expects a positive integer`);
    o[key] = n;
  }
  if (o.memories > 100) throw new Error('--memories is saved in one batch: at most 100');
  return o;
}
