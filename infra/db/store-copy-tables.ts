import { AppError } from '../../core/errors.ts';
import type { SqlExecutor } from './sql-driver.ts';

/** A column as the copy sees it: its type as PostgreSQL spells it (`vector(384)`, `text[]`). */
export interface ColumnShape {
  name: string;
  type: string;
  /** Computed by the database (GENERATED ALWAYS AS ... STORED): never written. */
  generated: boolean;
}

/** A table of the store's schema, with its primary key in key order (empty when it has none). */
export interface TableShape {
  name: string;
  columns: ColumnShape[];
  key: ColumnShape[];
}

/** The tables of the current schema, read from the catalog, so a new migration is copied too. */
export async function readTables(db: SqlExecutor): Promise<Map<string, TableShape>> {
  const rows = await db.query<{
    table_name: string;
    column_name: string;
    type: string;
    generated: boolean;
    key_position: number | null;
  }>(
    `SELECT c.relname AS table_name, a.attname AS column_name,
       format_type(a.atttypid, a.atttypmod) AS type, a.attgenerated <> '' AS generated,
       array_position(i.indkey::int2[], a.attnum) AS key_position
     FROM pg_class c
     JOIN pg_namespace n ON n.oid = c.relnamespace
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
     LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisprimary
     WHERE n.nspname = current_schema() AND c.relkind = 'r'
     ORDER BY c.relname, a.attnum`,
  );
  const tables = new Map<string, TableShape>();
  const keyOrder = new Map<ColumnShape, number>();
  for (const row of rows) {
    let table = tables.get(row.table_name);
    if (!table) {
      table = { name: row.table_name, columns: [], key: [] };
      tables.set(row.table_name, table);
    }
    const column = { name: row.column_name, type: row.type, generated: row.generated };
    table.columns.push(column);
    if (row.key_position !== null) {
      table.key.push(column);
      keyOrder.set(column, Number(row.key_position));
    }
  }
  for (const table of tables.values()) {
    table.key.sort((a, b) => keyOrder.get(a)! - keyOrder.get(b)!);
  }
  return tables;
}

/**
 * `names` ordered so that every table comes after the tables its foreign keys
 * point to (parents first), by the catalog's foreign keys.
 */
export async function foreignKeyOrder(
  db: SqlExecutor,
  names: readonly string[],
): Promise<string[]> {
  const edges = await db.query<{ child: string; parent: string }>(
    `SELECT ch.relname AS child, pa.relname AS parent
     FROM pg_constraint k
     JOIN pg_class ch ON ch.oid = k.conrelid
     JOIN pg_class pa ON pa.oid = k.confrelid
     JOIN pg_namespace n ON n.oid = ch.relnamespace
     WHERE k.contype = 'f' AND n.nspname = current_schema()`,
  );
  const wanted = new Set(names);
  const parents = new Map(names.map((name) => [name, new Set<string>()]));
  for (const { child, parent } of edges) {
    if (child !== parent && wanted.has(child) && wanted.has(parent)) {
      parents.get(child)!.add(parent);
    }
  }
  const ordered: string[] = [];
  const placed = new Set<string>();
  while (ordered.length < names.length) {
    const ready = [...names]
      .sort()
      .filter((name) => !placed.has(name) && [...parents.get(name)!].every((p) => placed.has(p)));
    if (ready.length === 0) {
      const left = names.filter((name) => !placed.has(name));
      throw new AppError('internal', `foreign keys form a cycle among ${left.join(', ')}`);
    }
    for (const name of ready) placed.add(name);
    ordered.push(...ready);
  }
  return ordered;
}

/** A quoted SQL identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** The number of rows of `table`. */
export async function countRows(db: SqlExecutor, table: string): Promise<number> {
  const [row] = await db.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${ident(table)}`);
  return Number(row?.n ?? 0);
}

export interface CopyTableOptions {
  /** Rows per page at most. */
  pageRows: number;
  /** About how many bytes of text one page may hold: pages shrink below `pageRows` to keep it. */
  pageBytes: number;
  onPage(copied: number): void;
}

/**
 * Copies every row of `source` into `target`, a page at a time in primary-key
 * order (`ctid` order for a table without one), each value as its text form
 * cast back to the target column's type: exact for every type the store uses
 * (timestamps keep their microseconds, vectors their floats, jsonb its
 * structure). Columns the target computes itself are left to it. Returns the
 * number of rows inserted.
 */
export async function copyTableRows(
  source: SqlExecutor,
  target: SqlExecutor,
  from: TableShape,
  to: TableShape,
  options: CopyTableOptions,
): Promise<number> {
  const columns = to.columns.filter(
    (c) => !c.generated && from.columns.some((s) => s.name === c.name),
  );
  const key: ColumnShape[] =
    from.key.length > 0 ? from.key : [{ name: 'ctid', type: 'tid', generated: false }];
  const selected = [
    ...columns.map((c, i) => `${ident(c.name)}::text AS c${i}`),
    ...key.map((k, i) => `${ident(k.name)}::text AS k${i}`),
  ].join(', ');
  const keyList = key.map((k) => ident(k.name)).join(', ');
  const after = key.map((k, i) => `$${i + 2}::${k.type}`).join(', ');
  const firstPage = `SELECT ${selected} FROM ${ident(from.name)} ORDER BY ${keyList} LIMIT $1`;
  const nextPage =
    `SELECT ${selected} FROM ${ident(from.name)} WHERE (${keyList}) > (${after}) ` +
    `ORDER BY ${keyList} LIMIT $1`;
  // OVERRIDING SYSTEM VALUE keeps the ids of GENERATED ALWAYS identity columns.
  const insert = `WITH inserted AS (
      INSERT INTO ${ident(to.name)} (${columns.map((c) => ident(c.name)).join(', ')})
      OVERRIDING SYSTEM VALUE
      SELECT ${columns.map((c, i) => `(r.v->>${i})::${c.type}`).join(', ')}
      FROM json_array_elements($1::json) AS r(v)
      RETURNING 1
    ) SELECT count(*)::int AS n FROM inserted`;

  let copied = 0;
  let limit = Math.min(options.pageRows, 100);
  let last: string[] | null = null;
  for (;;) {
    const rows: Record<string, string | null>[] = last
      ? await source.query(nextPage, [limit, ...last])
      : await source.query(firstPage, [limit]);
    if (rows.length === 0) return copied;
    const values = rows.map((row) => columns.map((_, i) => row[`c${i}`] ?? null));
    const payload = JSON.stringify(values);
    const [result] = await target.query<{ n: number }>(insert, [payload]);
    copied += Number(result?.n ?? 0);
    options.onPage(copied);
    if (rows.length < limit) return copied;
    const lastRow = rows[rows.length - 1]!;
    last = key.map((_, i) => lastRow[`k${i}`] ?? '');
    // The next page holds about pageBytes, judging by this one's size per row.
    const perRow = Math.max(1, payload.length / rows.length);
    limit = Math.max(1, Math.min(options.pageRows, Math.floor(options.pageBytes / perRow)));
  }
}
