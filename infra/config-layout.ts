// The process layout and store choice of `npm start`, validated with the rest
// of the configuration in `infra/config.ts`: which database (a PostgreSQL the
// product starts and supervises, one at DATABASE_URL, or PGlite in process)
// and which processes (one, or API and workers apart, several of each).
import { z } from 'zod';
import { port, positiveInt } from './config-fields.ts';

export const layoutFields = {
  /** `postgres`: DATABASE_URL, or a local PostgreSQL 18 the product starts; `pglite`: in process. */
  STORE: z
    .enum(['postgres', 'pglite'], { error: 'expected postgres or pglite' })
    .default('postgres'),
  /** The embedded PostgreSQL's port; 0 picks a free one on first start and keeps it. */
  LOCAL_PG_PORT: port(0),
  /** `all`: API and workers in one process; `api,worker`: each in processes of its own. */
  PROCESSES: z
    .string()
    .default('all')
    .transform((v) =>
      v
        .split(',')
        .map((part) => part.trim().toLowerCase())
        .filter(Boolean)
        .sort()
        .join(','),
    )
    .refine(
      (v) => v === 'all' || v === 'api,worker',
      'expected all (one process) or api,worker (separate processes)',
    )
    .transform((v) => (v === 'all' ? ('all' as const) : ('split' as const))),
  /** API processes sharing PORT (Node cluster) when PROCESSES=api,worker. */
  API_PROCESSES: positiveInt(1, 64),
  /** Worker processes when PROCESSES=api,worker. */
  WORKER_PROCESSES: positiveInt(1, 64),
};

interface LayoutInput {
  STORE: 'postgres' | 'pglite';
  DATABASE_URL: string | undefined;
  PROCESSES: 'all' | 'split';
  API_PROCESSES: number;
  WORKER_PROCESSES: number;
}

/** What the layout variables say together that each cannot say alone. */
export function layoutProblems(raw: LayoutInput): { variable: string; message: string }[] {
  const problems: { variable: string; message: string }[] = [];
  if (raw.STORE === 'pglite' && raw.DATABASE_URL) {
    problems.push({
      variable: 'STORE',
      message: 'pglite keeps the data in this process; unset DATABASE_URL or set STORE=postgres',
    });
  }
  if (raw.STORE === 'pglite' && raw.PROCESSES === 'split') {
    problems.push({
      variable: 'PROCESSES',
      message: 'api,worker needs a database several processes share: PGlite is single-process',
    });
  }
  if (raw.PROCESSES === 'all' && (raw.API_PROCESSES > 1 || raw.WORKER_PROCESSES > 1)) {
    problems.push({
      variable: raw.API_PROCESSES > 1 ? 'API_PROCESSES' : 'WORKER_PROCESSES',
      message: 'more than one process of a kind needs PROCESSES=api,worker',
    });
  }
  return problems;
}

/** Where the relational store lives: the derived `Config.database`. */
export type DatabaseMode = 'external' | 'embedded' | 'pglite';

export function databaseMode(raw: Pick<LayoutInput, 'STORE' | 'DATABASE_URL'>): DatabaseMode {
  if (raw.DATABASE_URL) return 'external';
  return raw.STORE === 'pglite' ? 'pglite' : 'embedded';
}
