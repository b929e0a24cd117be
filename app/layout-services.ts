import type { Logger } from 'pino';
import type { Config } from '../infra/config.ts';
import type { Supervisor } from '../infra/process/supervisor.ts';
import { startEmbeddedPostgres } from './embedded-postgres.ts';
import type { Shutdown } from './shutdown.ts';
import { startEmbeddedTemporal } from './temporal-services.ts';

/** The servers every API and worker process of the layout shares. */
export interface SharedServices {
  /** The database every child connects to. */
  databaseUrl: string;
  /** Where it is, for people: no credentials (`PostgreSQL 18 at 127.0.0.1:5433 (embedded)`). */
  databaseLabel: string;
  /** True when the database is the local PostgreSQL this process runs. */
  localDatabase: boolean;
  temporalUiUrl: string | null;
  /** The servers the parent started and restarts when they die. */
  supervisors: Supervisor[];
}

/** `host:port/database` of a PostgreSQL URL, without its user or password. */
function whereIs(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return 'DATABASE_URL';
  }
}

/**
 * Starts what the parent of `PROCESSES=api,worker` runs itself, each
 * supervised and stopped by `shutdown` (after the children, which are
 * registered later): the local PostgreSQL 18 unless `DATABASE_URL` names
 * one, and the Temporal dev server unless `TEMPORAL_ADDRESS` names a cluster.
 */
export async function startSharedServices(
  config: Config,
  logger: Logger,
  shutdown: Shutdown,
): Promise<SharedServices> {
  const supervisors: Supervisor[] = [];
  let databaseUrl: string;
  let databaseLabel: string;
  if (config.database === 'embedded') {
    const postgres = await startEmbeddedPostgres(config, logger, shutdown);
    supervisors.push(postgres.supervisor);
    databaseUrl = postgres.url;
    databaseLabel = `PostgreSQL 18 at ${whereIs(postgres.url)} (run by this process)`;
  } else if (config.database === 'external' && config.DATABASE_URL) {
    databaseUrl = config.DATABASE_URL;
    databaseLabel = `PostgreSQL at ${whereIs(config.DATABASE_URL)}`;
  } else {
    // The configuration refuses STORE=pglite with PROCESSES=api,worker; this is the backstop.
    throw new Error('PROCESSES=api,worker needs PostgreSQL (STORE=postgres or DATABASE_URL)');
  }
  let temporalUiUrl: string | null = null;
  if (config.embeddedTemporal) {
    const devServer = await startEmbeddedTemporal(config, logger, shutdown);
    supervisors.push(devServer.supervisor);
    temporalUiUrl = devServer.uiUrl;
  }
  const localDatabase = config.database === 'embedded';
  return { databaseUrl, databaseLabel, localDatabase, temporalUiUrl, supervisors };
}
