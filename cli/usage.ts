import { DEFAULT_BASE_URL } from '../client/src/index.ts';
import type { Command, OptionSpecs } from './command.ts';

export const URL_ENV = 'MEMORY_ENGINE_URL';
export const API_KEY_ENV = 'MEMORY_ENGINE_API_KEY';
export const ADMIN_KEY_ENV = 'MEMORY_ENGINE_ADMIN_KEY';

/** The options every verb takes. */
export const GLOBAL_OPTIONS: OptionSpecs = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  'admin-key': { type: 'string' },
  json: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const GLOBAL_HELP = [
  `--url <url>         the API (default $${URL_ENV}, else ${DEFAULT_BASE_URL})`,
  `--api-key <key>     a user's API key (default $${API_KEY_ENV})`,
  `--admin-key <key>   the admin key, for admin verbs (default $${ADMIN_KEY_ENV})`,
  '--json              print results as JSON (progress goes to stderr)',
  '--timeout <ms>      the longest one API call may take, retries included (default 30000)',
];

/** The top-level usage: every verb, with its synopsis and summary. */
export function usage(commands: readonly Command[]): string {
  const lines = commands.map((c) => `  ${`${c.name} ${c.synopsis}`.padEnd(44)} ${c.summary}`);
  return [
    'usage: memory-engine <verb> [options]',
    '',
    '  mcp [--url <url>] [--key <key>]              MCP over stdio, forwarded to <url>/mcp',
    '  admin-key [--data-dir <dir>]                 print the admin key (ADMIN_API_KEY, else the one generated in DATA_DIR)',
    ...lines,
    '',
    'options of every verb:',
    ...GLOBAL_HELP.map((l) => `  ${l}`),
    '',
    'memory-engine <verb> --help shows a verb’s own options.',
  ].join('\n');
}

/** One verb's usage: its synopsis, summary and options. */
export function commandUsage(command: Command): string {
  return [
    `usage: memory-engine ${command.name} ${command.synopsis} [options]`.replace(/ +/g, ' '),
    '',
    command.summary,
    ...(command.optionHelp?.length
      ? ['', 'options:', ...command.optionHelp.map((l) => `  ${l}`)]
      : []),
    '',
    'options of every verb:',
    ...GLOBAL_HELP.map((l) => `  ${l}`),
  ].join('\n');
}
