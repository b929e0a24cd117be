import { once } from 'node:events';
import fs from 'node:fs';
import type { ImportResult } from '../../client/src/index.ts';
import { pause, stringOption, UsageError, type Command, type CommandContext } from '../command.ts';
import { count, fields } from '../output.ts';

const NEWLINE = 0x0a;
/** How often progress lines are redrawn at most. */
const PROGRESS_MS = 200;
/** Refused lines the summary lists (the API keeps the first 100; `--json` shows them all). */
const SHOWN_ERRORS = 10;

const megabytes = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MB`;
const perSecond = (n: number, ms: number) => Math.round((n * 1000) / Math.max(ms, 1));
const thousands = (n: number) => n.toLocaleString('en-US');

function bar(done: number, total: number, width = 24): string {
  const share = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(share * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%`;
}

/** Calls `show` at most every {@link PROGRESS_MS}, and always with `force`. */
function throttled(show: () => void) {
  let last = 0;
  return (force = false) => {
    const now = Date.now();
    if (!force && now - last < PROGRESS_MS) return;
    last = now;
    show();
  };
}

/** Writes chunks to `path` through a `.partial` file renamed at the end, or to standard output. */
async function writeAll(
  chunks: AsyncIterable<Uint8Array>,
  path: string | undefined,
  seen: (chunk: Uint8Array) => void,
) {
  const target = path ? fs.createWriteStream(`${path}.partial`) : process.stdout;
  try {
    for await (const chunk of chunks) {
      seen(chunk);
      // Backpressure: a slow disk or pipe holds the download back, so memory stays flat.
      if (!target.write(chunk)) await once(target, 'drain');
    }
    if (path) {
      await new Promise<void>((resolve, reject) =>
        (target as fs.WriteStream).end((error?: Error | null) =>
          error ? reject(error) : resolve(),
        ),
      );
      await fs.promises.rename(`${path}.partial`, path);
    }
  } catch (error) {
    if (path) {
      (target as fs.WriteStream).destroy();
      await fs.promises.rm(`${path}.partial`, { force: true });
    }
    throw error;
  }
}

const exportCommand: Command = {
  name: 'export',
  synopsis: '[--out <file>]',
  summary: "the user's memories as NDJSON (every field), to a file or standard output",
  options: {
    out: { type: 'string', short: 'o' },
    narrative: { type: 'boolean' },
    user: { type: 'string' },
  },
  optionHelp: [
    '--out <file>, -o    write to this file (written whole or not at all); default: standard output',
    "--narrative         start with the user's current narrative",
    '--user <id>         export this user, with the admin key',
  ],
  async run(ctx) {
    const out = stringOption(ctx.values, 'out');
    const userId = stringOption(ctx.values, 'user');
    const options = { narrative: ctx.values.narrative === true };
    const call = { signal: ctx.signal };
    const chunks = userId
      ? ctx.client('admin').admin.exportUserNdjson(userId, options, call)
      : ctx.client('user').exportNdjson(options, call);
    const started = Date.now();
    let lines = 0;
    let bytes = 0;
    const show = throttled(() =>
      ctx.out.progress(
        `exported ${thousands(lines)} lines (${megabytes(bytes)}, ` +
          `${thousands(perSecond(lines, Date.now() - started))} lines/s)`,
      ),
    );
    await writeAll(chunks, out, (chunk) => {
      bytes += chunk.length;
      for (let i = chunk.indexOf(NEWLINE); i !== -1; i = chunk.indexOf(NEWLINE, i + 1)) lines++;
      show();
    });
    show(true);
    ctx.out.done();
    const seconds = (Date.now() - started) / 1000;
    const summary = { lines, bytes, seconds, file: out ?? null };
    if (out)
      ctx.out.result(summary, (s) => [
        `exported ${count(s.lines, 'line')} to ${out} in ${s.seconds.toFixed(1)} s`,
      ]);
    else ctx.out.note(`exported ${count(lines, 'line')} in ${seconds.toFixed(1)} s`);
  },
};

/** The file (or standard input) as a stream of bytes, counted as they are read. */
async function* readCounted(
  path: string,
  seen: (bytes: number) => void,
): AsyncGenerator<Uint8Array> {
  const source =
    path === '-' ? process.stdin : fs.createReadStream(path, { highWaterMark: 1 << 18 });
  for await (const chunk of source) {
    seen((chunk as Buffer).length);
    yield chunk as Buffer;
  }
}

function summaryLines(r: ImportResult): string[] {
  const shown = r.errors.slice(0, SHOWN_ERRORS).map((e) => `  line ${e.line}: ${e.message}`);
  const more = r.refused - shown.length;
  return [
    `read ${thousands(r.read)}: ${thousands(r.created)} created, ${thousands(r.duplicates)} duplicates, ` +
      `${thousands(r.refused)} refused${r.ignored ? `, ${thousands(r.ignored)} ignored` : ''}`,
    ...shown,
    ...(more > 0 ? [`  … and ${thousands(more)} more refused (--json lists the first 100)`] : []),
    ...fields([
      ['import', r.import_id],
      [
        'indexing',
        `${r.indexing.state}: ${thousands(r.indexing.indexed)} of ${thousands(r.created)} indexed` +
          (r.indexing.failed ? `, ${r.indexing.failed} failed` : ''),
      ],
      ['run', r.indexing.workflow_id ?? '(none: nothing new to index)'],
    ]),
  ];
}

/** Follows the import's indexing run until it is done, with a progress bar. */
async function waitIndexed(ctx: CommandContext, first: ImportResult): Promise<ImportResult> {
  const client = ctx.client('user');
  let status = first;
  while (status.indexing.state !== 'done') {
    const done = status.indexing.indexed + status.indexing.failed;
    ctx.out.progress(
      `indexing ${bar(done, status.created)}  ${thousands(done)} / ${thousands(status.created)}`,
    );
    await pause(500, ctx.signal);
    status = await client.imports.get(first.import_id, { signal: ctx.signal });
  }
  ctx.out.done();
  return status;
}

const importCommand: Command = {
  name: 'import',
  synopsis: '<file> | -',
  summary: 'import memories from NDJSON (an export, or lines of its shape), with progress',
  options: { 'all-or-nothing': { type: 'boolean' }, wait: { type: 'boolean' } },
  optionHelp: [
    '--all-or-nothing    store nothing if any line is bad (default: skip bad lines, listing them)',
    '--wait              follow the indexing of the new memories until it is done',
  ],
  async run(ctx) {
    const [path, ...extra] = ctx.args;
    if (!path || extra.length > 0)
      throw new UsageError('expected one file (or - for standard input)');
    const total = path === '-' ? null : (await fs.promises.stat(path).catch(() => null))?.size;
    if (total === undefined) throw new UsageError(`cannot read ${path}`);
    const client = ctx.client('user');
    const started = Date.now();
    let sent = 0;
    const show = throttled(() => {
      const rate = `${megabytes(perSecond(sent, Date.now() - started))}/s`;
      ctx.out.progress(
        total === null
          ? `sent ${megabytes(sent)} (${rate})`
          : `importing ${bar(sent, total)}  ${megabytes(sent)} / ${megabytes(total)}  ${rate}`,
      );
    });
    const body = readCounted(path, (n) => {
      sent += n;
      show();
    });
    let result = await client.importMemories(
      body,
      { allOrNothing: ctx.values['all-or-nothing'] === true },
      { signal: ctx.signal },
    );
    show(true);
    ctx.out.done();
    if (ctx.values.wait) result = await waitIndexed(ctx, result);
    ctx.out.result(result, summaryLines);
  },
};

export const portabilityCommands: Command[] = [exportCommand, importCommand];
