import { FILTER_LIMITS } from '../../core/retrieval/filters.ts';
import type { SqlExecutor } from '../db/sql-driver.ts';

/**
 * The filter payload of a vector row: the memory's metadata terms (see
 * `metadataTerms`), its event time and its state. A row written without them
 * has no terms, no event time (outside every range) and is active.
 */
const FILTER_COLUMNS = [
  `meta text[] NOT NULL DEFAULT '{}'`,
  'occurred_at timestamptz',
  `state text NOT NULL DEFAULT 'active'`,
];

/** {@link FILTER_COLUMNS} as part of a CREATE TABLE. */
export const FILTER_COLUMNS_SQL = FILTER_COLUMNS.join(',\n      ');

/**
 * Gives a vector table made before filters its payload columns, and fills
 * them from the memories table when the vectors live beside it (the embedded
 * and the usual production layout). Vectors kept in another database get
 * their payload at their next indexing. Runs inside the schema lock.
 */
export async function addFilterPayload(tx: SqlExecutor, table: string): Promise<void> {
  const columns = await tx.query<{ name: string }>(
    `SELECT attname AS name FROM pg_attribute
     WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
    [table],
  );
  if (columns.some((c) => c.name === 'meta')) return;
  await tx.query(
    `ALTER TABLE ${table} ${FILTER_COLUMNS.map((column) => `ADD COLUMN ${column}`).join(', ')}`,
  );
  const [memories] = await tx.query<{ ready: boolean }>(
    `SELECT count(*) = 3 AS ready FROM pg_attribute
     WHERE attrelid = to_regclass('memories') AND attname IN ('metadata', 'occurred_at', 'state')
       AND NOT attisdropped`,
  );
  if (memories?.ready) await tx.query(backfillSql(table));
}

/**
 * Copies each vector's payload from its memory. The terms are built as
 * `metadataTerm` writes them: `[<key as JSON>,<value as JSON>]` for scalar
 * values within the filter bounds.
 */
function backfillSql(table: string): string {
  return `
    UPDATE ${table} v SET occurred_at = m.occurred_at, state = m.state, meta = ARRAY(
      SELECT '[' || to_json(e.key)::text || ',' || e.value::text || ']'
      FROM jsonb_each(m.metadata) AS e
      WHERE jsonb_typeof(e.value) IN ('string', 'number', 'boolean')
        AND length(e.key) <= ${FILTER_LIMITS.keyChars}
        AND (jsonb_typeof(e.value) <> 'string' OR length(e.value #>> '{}') <= ${FILTER_LIMITS.valueChars})
      ORDER BY 1)
    FROM memories m WHERE m.id = v.id AND m.user_id = v.user_id`;
}
