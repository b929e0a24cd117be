import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { errorMessage, findCommand, tail, type Log } from '../../infra/process/process-tools.ts';
import { ensureSystemCommand } from '../../infra/process/system-setup.ts';
import {
  freePort,
  LOOPBACK as HOST,
  startServiceProcess,
  waitForService,
  waitUntil,
} from '../../infra/process/service-tools.ts';

const BINARY = 'redis-server';
const FALLBACK_DIRS = ['/usr/bin', '/usr/sbin', '/usr/local/bin'];
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const PROBE_TIMEOUT_MS = 1_000;
/** Attempts when another process takes the free port between choosing and binding it. */
const PORT_ATTEMPTS = 3;

export interface EnsureRedisServerOptions {
  /** The project root; the server's log goes to `<projectRoot>/.data/redis/`. */
  projectRoot: string;
  /** Receives progress and status lines. */
  log?: (msg: string) => void;
  /** Port on 127.0.0.1 (default: a free one). Set it to restart a server on the same port. */
  port?: number;
  /** Environment to read `PATH` from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the first PONG (default 15 s). */
  readyTimeoutMs?: number;
}

/** A `redis-server` child process that this process started and owns. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  url: string;
  port: number;
  pid: number;
  /** Where the server's output goes; removed when the server stops cleanly. */
  logFile: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s) and waits for it; safe to call more than once. */
  stop(): Promise<void>;
}

/**
 * Starts a private Redis for tests and development: loopback only, nothing
 * persisted (no RDB snapshots, no AOF), run in the foreground as a child of
 * this process so it dies with it. Finds `redis-server` on `PATH` or in the
 * usual system directories; when it is missing and this process is root (CI),
 * installs Debian's `redis-server` package with apt-get first (running
 * `apt-get update` only when the install fails without it). Resolves once the
 * server answers PING.
 */
export async function ensureRedisServer(options: EnsureRedisServerOptions): Promise<RedisServer> {
  const { log = () => {}, env = process.env } = options;
  const started = Date.now();
  const binary = await ensureBinary(env, log);
  const logDir = path.join(path.resolve(options.projectRoot), '.data', 'redis');
  await fs.mkdir(logDir, { recursive: true });

  for (let attempt = 1; ; attempt++) {
    const port = options.port ?? (await freePort());
    const logFile = path.join(logDir, `redis-${port}-${process.pid}.log`);
    try {
      const server = await startServer(binary, port, logFile, env, log, {
        readyTimeoutMs: options.readyTimeoutMs ?? READY_TIMEOUT_MS,
      });
      log(`Redis ready at ${server.url} in ${Date.now() - started} ms (log ${logFile})`);
      return server;
    } catch (error) {
      const portTaken = error instanceof PortInUseError;
      if (!portTaken || options.port !== undefined || attempt >= PORT_ATTEMPTS) throw error;
      log(`port ${port} was taken before Redis could bind it; trying another`);
    }
  }
}

class PortInUseError extends Error {}

function ensureBinary(env: NodeJS.ProcessEnv, log: Log): Promise<string> {
  return ensureSystemCommand({
    env,
    log,
    find: () => findCommand(BINARY, env, FALLBACK_DIRS),
    command: BINARY,
    aptPackage: 'redis-server',
    timeoutMs: 300_000,
    notRootError:
      `${BINARY} was not found on PATH or in ${FALLBACK_DIRS.join(', ')}, and only root may ` +
      'install it here: run `sudo apt-get install -y redis-server` (Debian/Ubuntu) or ' +
      '`brew install redis` (macOS), then try again',
    stillMissingError: `apt-get installed redis-server, but ${BINARY} is still not to be found`,
  });
}

async function startServer(
  binary: string,
  port: number,
  logFile: string,
  env: NodeJS.ProcessEnv,
  log: Log,
  { readyTimeoutMs }: { readyTimeoutMs: number },
): Promise<RedisServer> {
  const args = [
    ['--port', String(port)],
    ['--bind', HOST],
    ['--daemonize', 'no'],
    ['--save', ''],
    ['--appendonly', 'no'],
    // Nothing is persisted, but keep the working directory (where a dump would go) out of cwd.
    ['--dir', path.dirname(logFile)],
    ['--logfile', ''],
    ['--loglevel', 'warning'],
  ].flat();
  log(`starting ${binary} on ${HOST}:${port}`);
  const server = await startServiceProcess({
    command: binary,
    args,
    env,
    logFile,
    logFlags: 'w',
    stopGraceMs: STOP_GRACE_MS,
    afterStop: async (how) => {
      if (how === undefined) return;
      // A clean shutdown leaves nothing worth reading; keep the log of anything else.
      if (how === 'code 0') await fs.rm(logFile, { force: true });
      log(`stopped Redis on ${HOST}:${port} (${how})`);
    },
  });

  try {
    await waitForService(server, {
      ready: (signal) =>
        waitForServer(port, server.child.pid, readyTimeoutMs, signal).catch(
          async (error: unknown) => {
            if (error instanceof PortInUseError) throw error;
            throw new Error(
              `${errorMessage(error)}; last lines of ${logFile}:\n${await tail(logFile, 20)}`,
            );
          },
        ),
      exitedError: async (how) => {
        const output = await tail(logFile, 20);
        if (/address already in use/i.test(output)) {
          return new PortInUseError(`port ${port} on ${HOST} is already in use`);
        }
        return new Error(
          `Redis on ${HOST}:${port} exited before it answered PING (${how}); ` +
            `last lines of ${logFile}:\n${output}`,
        );
      },
    });
  } catch (error) {
    // A lost race for the port is retried on another; its log holds nothing worth keeping.
    if (error instanceof PortInUseError) await fs.rm(logFile, { force: true });
    throw error;
  }
  return {
    url: `redis://${HOST}:${port}`,
    port,
    pid: server.child.pid ?? -1,
    logFile,
    stop: server.stop,
  };
}

async function waitForServer(
  port: number,
  pid: number | undefined,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  await waitUntil(
    async () => {
      const answeredBy = await probe(port);
      if (answeredBy !== pid) {
        throw new PortInUseError(
          `port ${port} on ${HOST} is already served by another Redis (pid ${answeredBy})`,
        );
      }
    },
    {
      timeoutMs,
      intervalMs: 50,
      signal,
      isFatal: (error) => error instanceof PortInUseError,
      timeoutMessage: (lastError) =>
        `Redis on ${HOST}:${port} did not answer PING within ${timeoutMs / 1000} s: ${lastError}`,
    },
  );
}

/**
 * Sends PING and INFO over a fresh connection in the inline protocol, so
 * readiness needs no client library, and resolves with the process id of the
 * server that answered: a server this call did not start must not pass for ours.
 */
function probe(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: HOST, port });
    let reply = '';
    const fail = (error: Error) => {
      socket.destroy();
      reject(error);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => fail(new Error('PING timed out')));
    socket.once('error', fail);
    socket.once('connect', () => socket.write('PING\r\nINFO server\r\n'));
    socket.on('data', (chunk: Buffer) => {
      // INFO is ASCII, so characters count as bytes for its length prefix.
      reply += chunk.toString('latin1');
      const pong = reply.indexOf('\r\n');
      if (pong < 0) return;
      // "-LOADING ..." and the like: the server is up but not ready yet.
      if (!reply.startsWith('+PONG')) {
        fail(new Error(`PING answered ${JSON.stringify(reply.slice(0, pong))}`));
        return;
      }
      const rest = reply.slice(pong + 2);
      const header = /^\$(\d+)\r\n/.exec(rest);
      if (!header) {
        if (rest.includes('\r\n')) fail(new Error(`INFO answered ${JSON.stringify(rest.trim())}`));
        return;
      }
      const body = rest.slice(header[0].length);
      if (body.length < Number(header[1])) return;
      socket.destroy();
      const pid = /^process_id:(\d+)/m.exec(body)?.[1];
      if (pid) resolve(Number(pid));
      else reject(new Error('INFO server named no process_id'));
    });
  });
}
