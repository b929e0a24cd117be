import type { ParseArgsConfig } from 'node:util';
import type { MemoryEngineClient } from '../client/src/index.ts';
import type { Output } from './output.ts';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What a command runs with. */
export interface CommandContext {
  out: Output;
  /** The words after the command's name. */
  args: string[];
  /** Its options, parsed (the global ones included). */
  values: OptionValues;
  env: NodeJS.ProcessEnv;
  /** A client with the user's API key (`user`) or the admin key (`admin`); a usage error without one. */
  client(key: 'user' | 'admin'): MemoryEngineClient;
  /** Fires on Ctrl-C: long work stops, and calls in flight are aborted. */
  signal: AbortSignal;
}

/** One verb of the command line (`remember`, or two words: `users create`). */
export interface Command {
  name: string;
  /** What goes after the name in the usage line (`<text>...`). */
  synopsis: string;
  summary: string;
  options?: OptionSpecs;
  /** One line per option, for `--help`. */
  optionHelp?: string[];
  /** Resolves to the exit code when it is not 0 (a load test that failed, say). */
  run(ctx: CommandContext): Promise<number | void>;
}

/** Bad command-line input: shown with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A string option's value, or undefined. */
export function stringOption(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A repeatable string option's values (`--tag a --tag b`). */
export function listOption(values: OptionValues, name: string): string[] | undefined {
  const value = values[name];
  const strings = Array.isArray(value) ? value.filter((v) => typeof v === 'string') : [];
  return strings.length > 0 ? strings : undefined;
}

/** A whole-number option within bounds, or undefined when absent. */
export function intOption(
  values: OptionValues,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const text = stringOption(values, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} expects a whole number from ${min} to ${max}, got ${text}`);
  }
  return n;
}

/** The command's words as one text (`remember I like tea`), or a usage error naming `what`. */
export function textArgument(ctx: CommandContext, what: string): string {
  const text = ctx.args.join(' ').trim();
  if (!text) throw new UsageError(`expected ${what}`);
  return text;
}

/** Waits `ms`, or rejects with the reason of `signal` when it fires first. */
export async function pause(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    const stop = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', stop, { once: true });
  });
}
