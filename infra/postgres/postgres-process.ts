import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ServiceProcess } from '../process/service-tools.ts';

/** How long `stop()` waits for a fast shutdown (SIGINT) before an immediate one (SIGQUIT). */
const FAST_SHUTDOWN_MS = 30_000;

export interface PostgresProcessOptions {
  /** The directory of the `postgres` binary. */
  binDir: string;
  /** The cluster to serve. */
  dataDir: string;
  port: number;
  /** The user to run as (needed when this process is root); this process's own when undefined. */
  ids: { uid: number; gid: number } | undefined;
  /** Receives the server's output (appended). */
  logFile: string;
  /** Where the server also listens on a Unix socket (none when undefined: loopback TCP only). */
  socketDir?: string;
}

/**
 * Starts `postgres -D <dataDir>` in the foreground as a child of this
 * process, so whoever holds it sees when it dies. It runs in a process group
 * of its own, so a Ctrl-C meant for this process reaches it only through
 * `stop()`, after what uses the database has closed. `stop()` asks for a fast
 * shutdown (SIGINT: clients disconnected, data flushed) and escalates to an
 * immediate one (SIGQUIT) after 30 s; if this process exits without
 * `stop()`, the server gets SIGQUIT so it takes its backends down with it.
 */
export async function startPostgresProcess(
  options: PostgresProcessOptions,
): Promise<ServiceProcess> {
  const { logFile } = options;
  await fs.mkdir(path.dirname(logFile), { recursive: true });
  const out = await fs.open(logFile, 'a');
  let result: Omit<ServiceProcess, 'stop'>;
  try {
    const logStart = (await out.stat()).size;
    const child = spawn(
      path.join(options.binDir, 'postgres'),
      [
        ...['-D', options.dataDir, '-p', String(options.port)],
        ...(options.socketDir ? ['-c', `unix_socket_directories=${options.socketDir}`] : []),
      ],
      {
        cwd: '/',
        detached: true,
        stdio: ['ignore', out.fd, out.fd],
        ...(options.ids ? { uid: options.ids.uid, gid: options.ids.gid } : {}),
      },
    );
    // Listen before awaiting anything: a failed spawn reports 'error' on the next tick.
    const exited = new Promise<string>((resolve) => {
      child.once('error', (error) => resolve(`could not run postgres: ${error.message}`));
      child.once('exit', (code, signal) =>
        resolve(signal ? `killed by ${signal}` : `code ${code}`),
      );
    });
    result = { child, logStart, exited };
  } finally {
    await out.close();
  }
  const { child, exited } = result;
  const quitOnExit = () => child.kill('SIGQUIT');
  process.once('exit', quitOnExit);
  void exited.then(() => process.removeListener('exit', quitOnExit));

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      process.removeListener('exit', quitOnExit);
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill('SIGINT');
      const timer = setTimeout(() => child.kill('SIGQUIT'), FAST_SHUTDOWN_MS);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  return { ...result, stop };
}
