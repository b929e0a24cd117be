// Reading a benchmark script's command line with the project's option reader
// (scripts/cli-options.ts): its mistakes are UsageErrors, said in one line.
import { cliOptions, type CliOption } from '../../scripts/cli-options.ts';
import { UsageError } from './lifecycle.ts';

/** The options of `argv` as {@link cliOptions} reads them, a missing value a {@link UsageError}. */
export function* benchOptions(argv: readonly string[], usageFileUrl: string): Generator<CliOption> {
  for (const option of cliOptions(argv, usageFileUrl)) {
    yield {
      flag: option.flag,
      value: () => {
        try {
          return option.value();
        } catch (error) {
          throw new UsageError((error as Error).message);
        }
      },
    };
  }
}

/** `value` as a whole number of at least `min`, else a UsageError naming `flag`. */
export function wholeNumber(flag: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new UsageError(`${flag} expects a whole number of at least ${min}, got ${value}`);
  }
  return n;
}

/** Adds `KEY=VALUE` to `env`, else a UsageError naming `flag`. */
export function addEnvPair(env: Record<string, string>, flag: string, pair: string): void {
  const at = pair.indexOf('=');
  if (at < 1) throw new UsageError(`${flag} expects KEY=VALUE, got ${pair}`);
  env[pair.slice(0, at)] = pair.slice(at + 1);
}
