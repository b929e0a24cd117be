import { AppError } from '../../core/errors.ts';
import { createPgvectorSchema } from '../vector/pgvector-schema.ts';
import { migrate, migrations } from './migrations.ts';
import type { SqlDriver, SqlExecutor } from './sql-driver.ts';
import {
  copyTableRows,
  countRows,
  foreignKeyOrder,
  ident,
  readTables,
  type TableShape,
} from './store-copy-tables.ts';

export interface StoreCopyProgress {
  table: string;
  copied: number;
  total: number;
}

export interface StoreCopyOptions {
  /** One line per step (which table, how many rows). */
  log: (line: string) => void;
  /** Called after every page written. */
  onProgress?: (progress: StoreCopyProgress) => void;
  /** Rows per page at most (default 1000). */
  pageRows?: number;
  /** About how many bytes one page may hold (default 16 MiB). */
  pageBytes?: number;
}

/** One table's counts: in the source, inserted by the copy, and in the target once copied. */
export interface TableCopyCount {
  table: string;
  sourceRows: number;
  copiedRows: number;
  targetRows: number;
}

export interface StoreCopyResult {
  tables: TableCopyCount[];
  /** True when every table's three counts agree; otherwise nothing was committed. */
  verified: boolean;
}

/** Bookkeeping the target's own migrations write; never copied. */
const SKIPPED = new Set(['schema_migrations']);

class CountMismatch extends Error {
  constructor(readonly tables: TableCopyCount[]) {
    super('row counts differ after the copy');
  }
}

/**
 * Copies a whole store (every table of the source's schema: users, keys,
 * memories, graph, narratives, the vector-space registry and each pgvector
 * table) from `source` into `target`. The target is migrated by the product's
 * own migrations and vector-table code first, and must hold no users. All
 * rows are written in one transaction, in foreign-key order and in pages,
 * sequences are advanced past the source's, and the per-table counts are
 * checked before the commit: on a mismatch the transaction is rolled back and
 * the result says so. The source is only read.
 */
export async function copyStore(
  source: SqlDriver,
  target: SqlDriver,
  options: StoreCopyOptions,
): Promise<StoreCopyResult> {
  const { log } = options;
  await checkSourceVersion(source);
  await migrate(target);
  const [users] = await target.query<{ n: string }>('SELECT count(*)::text AS n FROM users');
  if (Number(users?.n ?? 0) > 0) {
    throw new AppError(
      'conflict',
      `the target database already holds ${users?.n} user(s): copy into an empty store only`,
    );
  }
  const sourceTables = await readTables(source);
  if (!sourceTables.has('users')) {
    throw new AppError('bad_request', 'the source has no users table: it is not a memory store');
  }
  await createVectorTables(target, sourceTables, log);
  const targetTables = await readTables(target);
  const names = [...sourceTables.keys()].filter((name) => !SKIPPED.has(name));
  const missing = names.filter((name) => !targetTables.has(name));
  if (missing.length > 0) {
    throw new AppError(
      'bad_request',
      `the target has no table for ${missing.join(', ')}: the source was written by ` +
        'software this version does not know',
    );
  }
  const order = await foreignKeyOrder(target, names);
  const counts = new Map<string, number>();
  for (const name of order) counts.set(name, await countRows(source, name));

  try {
    const tables = await target.transaction(async (tx) => {
      await clearLeftovers(tx, order, log);
      const copied = new Map<string, number>();
      for (const name of order) {
        const total = counts.get(name)!;
        log(`copying ${name} (${total} rows)`);
        const n = await copyTableRows(
          source,
          tx,
          sourceTables.get(name)!,
          targetTables.get(name)!,
          {
            pageRows: options.pageRows ?? 1000,
            pageBytes: options.pageBytes ?? 16 * 1024 * 1024,
            onPage: (done) => options.onProgress?.({ table: name, copied: done, total }),
          },
        );
        copied.set(name, n);
      }
      await advanceSequences(source, tx);
      const result: TableCopyCount[] = [];
      for (const name of order) {
        result.push({
          table: name,
          sourceRows: counts.get(name)!,
          copiedRows: copied.get(name)!,
          targetRows: await countRows(tx, name),
        });
      }
      if (!result.every(agrees)) throw new CountMismatch(result);
      return result;
    });
    return { tables, verified: true };
  } catch (error) {
    if (error instanceof CountMismatch) return { tables: error.tables, verified: false };
    throw error;
  }
}

function agrees(count: TableCopyCount): boolean {
  return count.sourceRows === count.copiedRows && count.copiedRows === count.targetRows;
}

/** Refuses a source migrated by a newer version of the product than this one. */
async function checkSourceVersion(source: SqlDriver): Promise<void> {
  const [found] = await source.query<{ name: string | null }>(
    "SELECT to_regclass('schema_migrations')::text AS name",
  );
  if (!found?.name) {
    throw new AppError('bad_request', 'the source has no schema_migrations: not a memory store');
  }
  const known = new Set(migrations.map((m) => m.version));
  const rows = await source.query<{ version: number }>('SELECT version FROM schema_migrations');
  const unknown = rows.map((r) => Number(r.version)).filter((v) => !known.has(v));
  if (unknown.length > 0) {
    throw new AppError(
      'bad_request',
      `the source has migration ${unknown.join(', ')}, which this version does not know: ` +
        'copy it with the version that wrote it',
    );
  }
}

/**
 * Creates in the target, through the pgvector adapter's own schema code (its
 * HNSW index and search function included), every table of the source that
 * holds an `embedding vector(n)` column: the spaces' tables, legacy ones too.
 */
async function createVectorTables(
  target: SqlDriver,
  tables: Map<string, TableShape>,
  log: (line: string) => void,
): Promise<void> {
  for (const table of tables.values()) {
    const embedding = table.columns.find((c) => c.name === 'embedding');
    const dimension = /^vector\((\d+)\)$/.exec(embedding?.type ?? '')?.[1];
    if (!dimension) continue;
    log(`creating vector table ${table.name} (${dimension} dimensions)`);
    await createPgvectorSchema(target, table.name, `${table.name}_search`, Number(dimension));
  }
}

/**
 * Empties the tables to be copied of what a product started on the empty
 * target wrote without any user (its vector-space registration, self-checks),
 * children first, so the copy does not collide with it.
 */
async function clearLeftovers(
  tx: SqlExecutor,
  order: readonly string[],
  log: (line: string) => void,
): Promise<void> {
  for (const name of [...order].reverse()) {
    const n = await countRows(tx, name);
    if (n === 0) continue;
    log(`clearing ${n} row(s) of ${name} written to the empty target before the copy`);
    await tx.query(`DELETE FROM ${ident(name)}`);
  }
}

/**
 * Moves every sequence of the target at least to the source's value, and a
 * sequence behind a serial or identity column past that column's largest
 * copied value, so the next generated id never collides with a copied one.
 */
async function advanceSequences(source: SqlDriver, tx: SqlExecutor): Promise<void> {
  const sourceValues = new Map(
    (
      await source.query<{ name: string; value: string }>(
        `SELECT sequencename AS name, last_value::text AS value FROM pg_sequences
         WHERE schemaname = current_schema() AND last_value IS NOT NULL`,
      )
    ).map((r) => [r.name, BigInt(r.value)]),
  );
  const targetSequences = await tx.query<{
    name: string;
    table_name: string | null;
    column_name: string | null;
  }>(
    `SELECT s.relname AS name, t.relname AS table_name, a.attname AS column_name
     FROM pg_class s
     JOIN pg_namespace n ON n.oid = s.relnamespace
     LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
       AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
     LEFT JOIN pg_class t ON t.oid = d.refobjid
     LEFT JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
     WHERE s.relkind = 'S' AND n.nspname = current_schema()`,
  );
  for (const seq of targetSequences) {
    let value = sourceValues.get(seq.name) ?? 0n;
    if (seq.table_name && seq.column_name) {
      const [row] = await tx.query<{ max: string | null }>(
        `SELECT max(${ident(seq.column_name)})::text AS max FROM ${ident(seq.table_name)}`,
      );
      if (row?.max && BigInt(row.max) > value) value = BigInt(row.max);
    }
    if (value > 0n) {
      await tx.query('SELECT setval($1::regclass, $2::bigint, true)', [
        ident(seq.name),
        value.toString(),
      ]);
    }
  }
}
