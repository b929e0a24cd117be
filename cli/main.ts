// cli/: the `memory-engine` command's verbs (bin/memory-engine.mjs hands them
// here): the public API through the typed client in client/, and the
// operational verbs that steer a running stack's workflows through Temporal.
// Tooling: nothing in the product imports it.
import { parseArgs } from 'node:util';
import {
  DEFAULT_BASE_URL,
  MemoryEngineClient,
  MemoryEngineError,
  type RetryEvent,
} from '../client/src/index.ts';
import { UsageError, type Command, type CommandContext } from './command.ts';
import { adminCommands } from './commands/admin.ts';
import { consolidateCommands } from './commands/consolidate.ts';
import { conversationCommands } from './commands/conversations.ts';
import { loadTestCommands } from './commands/loadtest.ts';
import { memoryCommands } from './commands/memories.ts';
import { narrativeCommands } from './commands/narratives.ts';
import { portabilityCommands } from './commands/portability.ts';
import { selfCheckCommands } from './commands/selfcheck.ts';
import { createOutput, type Output, type Streams } from './output.ts';
import {
  ADMIN_KEY_ENV,
  API_KEY_ENV,
  commandUsage,
  GLOBAL_OPTIONS,
  URL_ENV,
  usage,
} from './usage.ts';

export const COMMANDS: readonly Command[] = [
  ...memoryCommands,
  ...portabilityCommands,
  ...conversationCommands,
  ...adminCommands,
  ...loadTestCommands,
  ...narrativeCommands,
  ...consolidateCommands,
  ...selfCheckCommands,
];

/** The command the first words name (`users create` before `users`), and the words after it. */
function findCommand(argv: readonly string[]): { command: Command; rest: string[] } | null {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const command = COMMANDS.find((c) => c.name === name);
    if (command && argv.length >= words) return { command, rest: argv.slice(words) };
  }
  return null;
}

function timeoutOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms < 1) throw new UsageError('--timeout expects milliseconds ≥ 1');
  return ms;
}

function contextFor(
  command: Command,
  rest: string[],
  io: CliIo,
  out: Output,
  signal: AbortSignal,
): CommandContext | 'help' {
  const { values, positionals } = parseArgs({
    args: rest,
    options: { ...GLOBAL_OPTIONS, ...command.options },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) return 'help';
  const str = (name: string) =>
    typeof values[name] === 'string' ? (values[name] as string) : undefined;
  const timeoutMs = timeoutOption(str('timeout'));
  const base = {
    baseUrl: str('url') ?? io.env[URL_ENV] ?? DEFAULT_BASE_URL,
    ...(timeoutMs ? { timeoutMs } : {}),
    headers: { 'user-agent': 'memory-engine-cli' },
    onRetry: ({ error, delayMs, attempt }: RetryEvent) =>
      out.progress(
        `${error.status ?? ''} ${error.code}: retrying in ${(delayMs / 1000).toFixed(1)} s ` +
          `(attempt ${attempt + 1})`,
      ),
  };
  const keys = {
    user: { value: str('api-key') ?? io.env[API_KEY_ENV], flag: '--api-key', env: API_KEY_ENV },
    admin: {
      value: str('admin-key') ?? io.env[ADMIN_KEY_ENV],
      flag: '--admin-key',
      env: ADMIN_KEY_ENV,
    },
  };
  return {
    out,
    args: positionals,
    values,
    env: io.env,
    signal,
    client(kind) {
      const key = keys[kind];
      if (!key.value) {
        throw new UsageError(
          `no ${kind === 'admin' ? 'admin key' : 'API key'}: pass ${key.flag} or set ${key.env}`,
        );
      }
      return new MemoryEngineClient({
        ...base,
        ...(kind === 'admin' ? { adminKey: key.value } : { apiKey: key.value }),
      });
    },
  };
}

function reportError(error: unknown, out: Output, stderr: Streams['stderr']): number {
  out.done();
  if (error instanceof MemoryEngineError) {
    if (out.json) {
      const { code, message, status, requestId: request_id, details } = error;
      stderr.write(
        `${JSON.stringify({ error: { code, message, status, request_id, details } })}\n`,
      );
    } else {
      const where = [
        error.status ? `HTTP ${error.status}` : '',
        error.requestId ? `request id ${error.requestId}` : '',
      ];
      stderr.write(
        `memory-engine: ${error.code}: ${error.message} (${where.filter(Boolean).join(', ')})\n`,
      );
    }
    return error.code === 'aborted' ? 130 : 1;
  }
  const message = error instanceof Error ? error.message : String(error);
  if (out.json) stderr.write(`${JSON.stringify({ error: { code: 'cli_error', message } })}\n`);
  else stderr.write(`memory-engine: ${message}\n`);
  return 1;
}

export interface CliIo extends Streams {
  env: NodeJS.ProcessEnv;
}

/**
 * Runs one command line (`argv` without `node` and the script) and resolves
 * to the exit code: 0 done, 1 failed, 2 bad usage, 130 interrupted.
 */
export async function main(
  argv: readonly string[],
  io: CliIo = { env: process.env, stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  if (argv.length === 0 || ['help', '--help', '-h'].includes(argv[0]!)) {
    io.stdout.write(`${usage(COMMANDS)}\n`);
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    io.stderr.write(
      `memory-engine: unknown verb ${argv.slice(0, 2).join(' ')}\n\n${usage(COMMANDS)}\n`,
    );
    return 2;
  }
  const { command, rest } = found;
  const out = createOutput(rest.includes('--json'), io);
  const interrupt = new AbortController();
  const onSigint = () => interrupt.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    const ctx = contextFor(command, rest, io, out, interrupt.signal);
    if (ctx === 'help') {
      io.stdout.write(`${commandUsage(command)}\n`);
      return 0;
    }
    const code = await command.run(ctx);
    out.done();
    return code ?? 0;
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      out.done();
      io.stderr.write(
        `memory-engine ${command.name}: ${(error as Error).message}\n\n${commandUsage(command)}\n`,
      );
      return 2;
    }
    if (interrupt.signal.aborted) {
      out.done();
      io.stderr.write('memory-engine: interrupted\n');
      return 130;
    }
    return reportError(error, out, io.stderr);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
