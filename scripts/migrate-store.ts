/*
usage: npm run migrate-store -- [--from <dir>] [--page-rows <n>]

Copies a PGlite store (default: $DATA_DIR/pglite) into PostgreSQL: the
database at DATABASE_URL when it is set, else the PostgreSQL the product runs
itself under the data directory. Every table is copied in one transaction and
the row counts of each are checked before it commits; the command prints them
and exits non-zero when any differ. The target must hold no users yet.

The PGlite directory is never written: the copy reads a snapshot of it taken
in a temporary directory (it needs as much free space again). Stop the product
first: the command refuses while a process has that store open.

  --from <dir>       the PGlite directory to copy (default $DATA_DIR/pglite)
  --page-rows <n>    rows read and written per statement at most (default 1000)
*/
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from 'pino';
import { startEmbeddedPostgres } from '../app/embedded-postgres.ts';
import { createShutdown, type Shutdown } from '../app/shutdown.ts';
import { loadConfig, type Config } from '../infra/config.ts';
import { createPgDriver } from '../infra/db/pg-driver.ts';
import { createPgliteDriver } from '../infra/db/pglite-driver.ts';
import type { SqlDriver } from '../infra/db/sql-driver.ts';
import { copyStore, type TableCopyCount } from '../infra/db/store-copy.ts';
import { createLogger } from '../infra/logger.ts';
import { cliOptions } from './cli-options.ts';

function parseArgs(argv: readonly string[]): { from?: string; pageRows?: number } {
  const parsed: { from?: string; pageRows?: number } = {};
  for (const option of cliOptions(argv, import.meta.url)) {
    if (option.flag === '--from') parsed.from = path.resolve(option.value());
    else if (option.flag === '--page-rows') {
      const value = option.value();
      if (!/^[1-9][0-9]{0,5}$/.test(value)) throw new Error('--page-rows expects 1 to 999999');
      parsed.pageRows = Number(value);
    } else throw new Error(`unknown option ${option.flag} (see --help)`);
  }
  return parsed;
}

/** The ids of other processes holding a file under `dir` open (Linux; null where unknown). */
async function processesUsing(dir: string): Promise<number[] | null> {
  let pids: string[];
  try {
    pids = (await fs.readdir('/proc')).filter((name) => /^\d+$/.test(name));
  } catch {
    return null;
  }
  const prefix = `${dir}${path.sep}`;
  const users: number[] = [];
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    const fds = await fs.readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await fs.readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (link.startsWith(prefix)) {
        users.push(Number(pid));
        break;
      }
    }
  }
  return users;
}

/**
 * The PGlite store at `dir`, opened on a copy in a temporary directory: PGlite
 * writes to the directory it opens (its WAL, a checkpoint at close), and the
 * user's store must stay exactly as it was. Closing removes the copy.
 */
async function openSnapshot(dir: string): Promise<SqlDriver> {
  const marker = await fs.stat(path.join(dir, 'PG_VERSION')).catch(() => null);
  if (!marker) throw new Error(`there is no PGlite store at ${dir} (use --from <dir>)`);
  const users = await processesUsing(dir);
  if (users === null) {
    console.warn(
      `cannot tell whether a process has ${dir} open here: make sure the product is stopped`,
    );
  } else if (users.length > 0) {
    throw new Error(
      `process ${users.join(', ')} has the store at ${dir} open: stop the product first`,
    );
  }
  const copy = await fs.mkdtemp(path.join(os.tmpdir(), 'memory-engine-migrate-'));
  try {
    console.log(`taking a snapshot of ${dir}`);
    await fs.cp(dir, copy, { recursive: true });
    const driver = await createPgliteDriver(copy);
    return {
      ...driver,
      async close() {
        await driver.close();
        await fs.rm(copy, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await fs.rm(copy, { recursive: true, force: true });
    throw error;
  }
}

/** DATABASE_URL when set, else the PostgreSQL the product runs itself (started here). */
async function targetUrl(config: Config, logger: Logger, shutdown: Shutdown): Promise<string> {
  if (config.DATABASE_URL) return config.DATABASE_URL;
  console.log('starting the local PostgreSQL');
  const { url } = await startEmbeddedPostgres(config, logger, shutdown);
  return url;
}

function printSummary(tables: readonly TableCopyCount[]) {
  const header = ['table', 'source rows', 'copied rows', 'target rows'];
  const lines = tables.map((t) => [
    t.table,
    String(t.sourceRows),
    String(t.copiedRows),
    String(t.targetRows),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const format = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(format(header));
  for (const line of lines) console.log(format(line));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL);
  const shutdown = createShutdown(logger);
  try {
    const from = args.from ?? path.join(config.dataDir, 'pglite');
    const source = await openSnapshot(from);
    shutdown.add('source snapshot', () => source.close());
    const url = await targetUrl(config, logger, shutdown);
    const target = await createPgDriver({
      url,
      poolSize: 2,
      // One page of a large table, or an HNSW index taking a page of vectors, may take a while.
      statementTimeoutMs: 600_000,
      connectTimeoutMs: config.PG_CONNECT_TIMEOUT_MS,
      onError: (error) => logger.warn({ err: error }, 'database connection error'),
    });
    shutdown.add('target database', () => target.close());
    console.log(`copying ${from} into ${redacted(url)}`);
    let lastLine = 0;
    const result = await copyStore(source, target, {
      ...(args.pageRows ? { pageRows: args.pageRows } : {}),
      log: (line) => console.log(line),
      onProgress: ({ table, copied, total }) => {
        if (copied < total && Date.now() - lastLine < 2000) return;
        lastLine = Date.now();
        console.log(`  ${table}: ${copied} of ${total}`);
      },
    });
    printSummary(result.tables);
    if (!result.verified) {
      throw new Error('row counts differ: the copy was rolled back, the target is unchanged');
    }
    console.log(`copied ${result.tables.length} tables; ${from} is unchanged`);
    if (config.STORE === 'pglite') {
      console.log('STORE=pglite is set: unset it (or set STORE=postgres) to run on the copy');
    }
  } finally {
    await shutdown.stop();
  }
}

/** The URL without its password, for printing. */
function redacted(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'the target database';
  }
}

main().catch((error: unknown) => {
  console.error(`migrate-store: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
