import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const HOST = '127.0.0.1';
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

async function ensureBinary(env: NodeJS.ProcessEnv, log: (msg: string) => void): Promise<string> {
  const found = await findBinary(env);
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${BINARY} was not found on PATH or in ${FALLBACK_DIRS.join(', ')}, and only root may ` +
        'install it here: run `sudo apt-get install -y redis-server` (Debian/Ubuntu) or ' +
        '`brew install redis` (macOS), then try again',
    );
  }
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  // Waits for another apt/dpkg run (a parallel test process, say) instead of failing on its lock.
  const install = ['-o', 'DPkg::Lock::Timeout=120', 'install', '-y', '--no-install-recommends'];
  const started = Date.now();
  log(`${BINARY} not found: installing the redis-server package with apt-get`);
  try {
    await run('apt-get', [...install, 'redis-server'], aptEnv, 300_000);
  } catch (error) {
    log(
      `apt-get install failed (${firstLine(error)}); running apt-get update and trying once more`,
    );
    await run('apt-get', ['-o', 'DPkg::Lock::Timeout=120', 'update'], aptEnv, 300_000);
    await run('apt-get', [...install, 'redis-server'], aptEnv, 300_000);
  }
  const installed = await findBinary(env);
  if (!installed) {
    throw new Error(`apt-get installed redis-server, but ${BINARY} is still not to be found`);
  }
  log(`installed ${installed} in ${Date.now() - started} ms`);
  return installed;
}

async function findBinary(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const dirs = [...(env.PATH ?? '').split(path.delimiter).filter(Boolean), ...FALLBACK_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, BINARY);
    try {
      await fs.access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

async function startServer(
  binary: string,
  port: number,
  logFile: string,
  env: NodeJS.ProcessEnv,
  log: (msg: string) => void,
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
  const out = await fs.open(logFile, 'w');
  log(`starting ${binary} on ${HOST}:${port}`);
  let child: ChildProcess;
  try {
    child = spawn(binary, args, { env, stdio: ['ignore', out.fd, out.fd] });
  } finally {
    await out.close();
  }
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => resolve(`could not run ${binary}: ${error.message}`));
    child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `code ${code}`));
  });
  // Never leave an orphan server behind when this process ends without calling stop().
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
      const how = await exited;
      clearTimeout(timer);
      // A clean shutdown leaves nothing worth reading; keep the log of anything else.
      if (how === 'code 0') await fs.rm(logFile, { force: true });
      log(`stopped Redis on ${HOST}:${port} (${how})`);
    })();
    return stopping;
  };

  const abort = new AbortController();
  try {
    await Promise.race([
      waitForServer(port, child.pid, readyTimeoutMs, abort.signal).catch(async (error: unknown) => {
        if (error instanceof PortInUseError) throw error;
        const reason = error instanceof Error ? error.message : String(error);
        throw new Error(`${reason}; last lines of ${logFile}:\n${await tail(logFile, 20)}`);
      }),
      exited.then(async (how) => {
        if (abort.signal.aborted) return;
        const output = await tail(logFile, 20);
        if (/address already in use/i.test(output)) {
          throw new PortInUseError(`port ${port} on ${HOST} is already in use`);
        }
        throw new Error(
          `Redis on ${HOST}:${port} exited before it answered PING (${how}); ` +
            `last lines of ${logFile}:\n${output}`,
        );
      }),
    ]);
  } catch (error) {
    abort.abort();
    await stop();
    if (error instanceof PortInUseError) await fs.rm(logFile, { force: true });
    throw error;
  } finally {
    abort.abort();
  }
  return { url: `redis://${HOST}:${port}`, port, pid: child.pid ?? -1, logFile, stop };
}

async function waitForServer(
  port: number,
  pid: number | undefined,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no answer';
  while (!signal.aborted) {
    let answeredBy: number | undefined;
    try {
      answeredBy = await probe(port);
    } catch (error) {
      lastError = error instanceof Error ? error.message : String(error);
    }
    if (answeredBy !== undefined) {
      if (answeredBy === pid) return;
      throw new PortInUseError(
        `port ${port} on ${HOST} is already served by another Redis (pid ${answeredBy})`,
      );
    }
    if (Date.now() > deadline) {
      throw new Error(
        `Redis on ${HOST}:${port} did not answer PING within ${timeoutMs / 1000} s: ${lastError}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function tail(file: string, lines: number): Promise<string> {
  try {
    return (await fs.readFile(file, 'utf8')).trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no output)';
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

/** Runs a command and fails with its stderr when it exits non-zero. */
async function run(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<void> {
  try {
    await execFileAsync(command, args, { env, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
  } catch (error) {
    const { stderr = '', stdout = '' } = error as { stderr?: string; stdout?: string };
    throw new Error(
      `${command} ${args.join(' ')} failed: ${(stderr || stdout).trim() || String(error)}`,
      { cause: error },
    );
  }
}
