import type { Migration } from './migrations.ts';

/**
 * Migration 10: moving a user's memories in and out
 * (infra/db/sql-import-queries.ts, infra/db/sql-export-queries.ts).
 */
export const importAndExport: Migration = {
  version: 10,
  name: 'import-and-export',
  // Moving a user's memories in and out (infra/db/sql-import-queries.ts).
  // `external_id` names a memory in the system it came from (unique per user
  // when given), so importing the same file again finds it. An imported
  // memory remembers its import and line, which the import's indexing run
  // pages through in file order. `imports` holds each upload's counts (in
  // the transaction of the lines they count) and its indexing progress;
  // `import_staged` holds an all-or-nothing upload's lines until it is
  // committed whole. Nullable columns without defaults: no table rewrite.
  sql: `
    ALTER TABLE memories ADD COLUMN external_id text;
    ALTER TABLE memories ADD COLUMN import_id uuid;
    ALTER TABLE memories ADD COLUMN import_line integer;
    CREATE UNIQUE INDEX memories_user_external ON memories (user_id, external_id)
      WHERE external_id IS NOT NULL;
    CREATE INDEX memories_import_line ON memories (import_id, import_line)
      WHERE import_id IS NOT NULL;
    CREATE TABLE imports (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      state text NOT NULL DEFAULT 'receiving'
        CHECK (state IN ('receiving', 'received', 'refused', 'interrupted')),
      all_or_nothing boolean NOT NULL,
      lines_read integer NOT NULL DEFAULT 0,
      created integer NOT NULL DEFAULT 0,
      duplicates integer NOT NULL DEFAULT 0,
      refused integer NOT NULL DEFAULT 0,
      ignored integer NOT NULL DEFAULT 0,
      errors jsonb NOT NULL DEFAULT '[]'::jsonb,
      index_state text NOT NULL DEFAULT 'pending'
        CHECK (index_state IN ('pending', 'running', 'done')),
      indexed integer NOT NULL DEFAULT 0,
      index_failed integer NOT NULL DEFAULT 0,
      indexed_through integer NOT NULL DEFAULT 0,
      workflow_id text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      received_at timestamptz,
      indexed_at timestamptz
    );
    CREATE INDEX imports_user ON imports (user_id, created_at DESC);
    CREATE TABLE import_staged (
      import_id uuid NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
      line integer NOT NULL,
      memory jsonb NOT NULL,
      PRIMARY KEY (import_id, line)
    );
  `,
};
