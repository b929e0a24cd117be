import { pino, type DestinationStream, type Logger } from 'pino';

/** `json`: one JSON object a line; `pretty`: one readable line; `auto`: pretty on a terminal. */
export type LogFormat = 'auto' | 'pretty' | 'json';

export interface LoggerOptions {
  name?: string;
  /** `LOG_FORMAT`; default `json`, as for every logger that is not the process's own. */
  format?: LogFormat;
  /** Print the process id on pretty lines (several processes share one terminal). */
  showPid?: boolean;
  /** Where lines go (default stdout); a terminal gets colours unless `NO_COLOR` is set. */
  stream?: LogStream;
}

/** Where log lines are written: stdout, or a test's collector. */
export interface LogStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/**
 * The process logger: a message plus an object, as JSON lines, or as
 * coloured one-line text when `format` is `pretty` (or `auto` on a terminal).
 */
export function createLogger(level: string, options: LoggerOptions = {}): Logger {
  const { name = 'memory-engine', format = 'json', stream = process.stdout } = options;
  const settings = { name, level, base: { pid: process.pid } };
  const pretty = format === 'pretty' || (format === 'auto' && stream.isTTY === true);
  if (!pretty) return options.stream ? pino(settings, stream) : pino(settings);
  const colours = stream.isTTY === true && !process.env.NO_COLOR;
  return pino(settings, prettyStream(stream, { colours, showPid: options.showPid ?? false }));
}

interface PrettyOptions {
  colours: boolean;
  showPid: boolean;
}

/** A pino destination that rewrites each JSON line as text. */
function prettyStream(out: LogStream, options: PrettyOptions): DestinationStream {
  return {
    write(line: string) {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      out.write(`${formatPretty(record, options)}\n`);
    },
  };
}

const LEVELS: Record<number, { label: string; colour: string }> = {
  10: { label: 'TRACE', colour: '90' },
  20: { label: 'DEBUG', colour: '36' },
  30: { label: 'INFO ', colour: '32' },
  40: { label: 'WARN ', colour: '33' },
  50: { label: 'ERROR', colour: '31' },
  60: { label: 'FATAL', colour: '1;31' },
};

/** Fields every record carries, shown in their own places or not at all. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name', 'component']);

/** Control characters (C0, DEL, C1) escaped, so a logged value cannot move the cursor or recolour. */
const clean = (text: string): string =>
  // eslint-disable-next-line no-control-regex
  text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) =>
    c === '\n' ? '\\n' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );

function formatValue(value: unknown): string {
  if (typeof value === 'string')
    return /^[^\s"=]+$/.test(value) ? clean(value) : JSON.stringify(value);
  if (value !== null && typeof value === 'object') return clean(JSON.stringify(value));
  return String(value);
}

const twoDigits = (n: number) => String(n).padStart(2, '0');

function clock(time: unknown): string {
  const at = new Date(typeof time === 'number' ? time : Date.now());
  const ms = String(at.getMilliseconds()).padStart(3, '0');
  return `${twoDigits(at.getHours())}:${twoDigits(at.getMinutes())}:${twoDigits(at.getSeconds())}.${ms}`;
}

/** An error's message inline; for errors and worse, its stack on the lines below. */
function formatError(
  err: Record<string, unknown>,
  withStack: boolean,
): { inline: string; stack: string } {
  const message = typeof err.message === 'string' ? err.message : JSON.stringify(err);
  const stack = withStack && typeof err.stack === 'string' ? err.stack : '';
  const below = stack
    .split('\n')
    .slice(1)
    .map((frame) => `    ${clean(frame.trim())}`)
    .join('\n');
  return { inline: formatValue(message), stack: below };
}

/**
 * One log record as one line: local time, level, `[component]`, message,
 * then the record's other fields as `key=value`. An error's stack (level
 * error and above) follows on indented lines.
 */
export function formatPretty(record: Record<string, unknown>, options: PrettyOptions): string {
  const paint = (code: string, text: string) =>
    options.colours ? `\u001b[${code}m${text}\u001b[0m` : text;
  const level = LEVELS[Number(record.level)] ?? { label: String(record.level), colour: '0' };
  const parts = [paint('2', clock(record.time)), paint(level.colour, level.label)];
  if (options.showPid && record.pid !== undefined) parts.push(paint('2', String(record.pid)));
  if (typeof record.component === 'string') parts.push(paint('35', `[${clean(record.component)}]`));
  if (typeof record.msg === 'string') parts.push(clean(record.msg));
  let stack = '';
  for (const [key, value] of Object.entries(record)) {
    if (HIDDEN.has(key) || value === undefined) continue;
    if ((key === 'err' || key === 'error') && value !== null && typeof value === 'object') {
      const err = formatError(value as Record<string, unknown>, Number(record.level) >= 50);
      parts.push(`${paint('2', `${key}=`)}${paint('31', err.inline)}`);
      stack = err.stack;
      continue;
    }
    parts.push(`${paint('2', `${key}=`)}${formatValue(value)}`);
  }
  return stack ? `${parts.join(' ')}\n${paint('2', stack)}` : parts.join(' ');
}

export type { Logger };
