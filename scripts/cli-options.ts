import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

/** One option of a command line, as `--flag value` or `--flag=value`. */
export interface CliOption {
  flag: string;
  /** The option's value: the inline one, else the next argument (consumed); throws when there is none. */
  value(): string;
}

/**
 * The options of `argv`, one at a time; an option that takes a value reads it
 * with `value()`, a switch does not. `--help` or `-h` prints the command's
 * usage, the opening comment of the file at `usageFileUrl` (the entry point's
 * `import.meta.url`), and exits.
 */
export function* cliOptions(argv: readonly string[], usageFileUrl: string): Generator<CliOption> {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? arg.split('=', 2) : [arg, undefined];
    if (flag === '--help' || flag === '-h') {
      console.log(fs.readFileSync(fileURLToPath(usageFileUrl), 'utf8').split('*/')[0]);
      process.exit(0);
    }
    let value = inline;
    yield {
      flag: flag!,
      value: () => {
        value ??= argv[++i];
        if (value === undefined) throw new Error(`${flag} expects a value`);
        return value;
      },
    };
  }
}
