/**
 * What the CLI writes: results to stdout (JSON with `--json`, readable text
 * otherwise), progress and notes to stderr so that `--json | jq` stays clean.
 * Progress redraws one line on a terminal and prints changed lines otherwise;
 * with `--json` it shows only on a terminal.
 */
export interface Output {
  readonly json: boolean;
  /** The command's result: `value` as JSON, or `render(value)`'s lines. */
  result<T>(value: T, render: (value: T) => string[]): void;
  /** A note for a person (a hint, a warning); never part of a result. */
  note(text: string): void;
  /** The state of long work; a new line replaces the last on a terminal. */
  progress(text: string): void;
  /** Ends the progress line, if one is showing. */
  done(): void;
}

export interface Streams {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

export function createOutput(
  json: boolean,
  streams: Streams = { stdout: process.stdout, stderr: process.stderr },
): Output {
  const { stdout, stderr } = streams;
  const live = Boolean(stderr.isTTY);
  let showing = false;
  let last = '';
  const done = () => {
    if (showing) stderr.write('\n');
    showing = false;
    last = '';
  };
  return {
    json,
    result(value, render) {
      done();
      const text = json ? JSON.stringify(value, null, 2) : render(value).join('\n');
      if (text !== '') stdout.write(`${text}\n`);
    },
    note(text) {
      done();
      if (!json || live) stderr.write(`${text}\n`);
    },
    progress(text) {
      if (text === last || (json && !live)) return;
      last = text;
      if (live) {
        stderr.write(`\r\x1b[K${text}`);
        showing = true;
      } else {
        stderr.write(`${text}\n`);
      }
    },
    done,
  };
}

/** A column of {@link table}: its heading, and a cap on its width (the last one fills the line). */
export interface Column<T> {
  heading: string;
  value: (row: T) => string;
  max?: number;
}

const clip = (text: string, width: number) =>
  text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;

/** Rows as aligned columns under their headings; text on one line, clipped to `width`. */
export function table<T>(rows: readonly T[], columns: Column<T>[], width = 120): string[] {
  const cells = rows.map((row) =>
    columns.map((c) => clip(c.value(row).replace(/\s+/g, ' ').trim(), c.max ?? Infinity)),
  );
  const widths = columns.map((c, i) =>
    Math.max(c.heading.length, ...cells.map((r) => r[i]!.length)),
  );
  const line = (parts: string[]) => {
    const text = parts
      .map((p, i) => (i === parts.length - 1 ? p : p.padEnd(widths[i]!)))
      .join('  ');
    return clip(text, width);
  };
  return [line(columns.map((c) => c.heading)), ...cells.map(line)];
}

/** Key and value pairs, the keys aligned. */
export function fields(pairs: [string, string][]): string[] {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 1)}  ${v}`);
}

/** `2026-12-06T10:20:30.123Z` as `2026-12-06 10:20`. */
export const shortTime = (iso: string) => iso.replace('T', ' ').slice(0, 16);

/** `1 memory`, `2 memories`. */
export const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;
