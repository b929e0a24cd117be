import fs from 'node:fs/promises';
import path from 'node:path';
import { run, type Log, type RunOptions } from '../process/process-tools.ts';
import { ensureSystemUser, runAsUser } from '../process/system-setup.ts';

/** Both the unprivileged system user that runs the server (as root) and the superuser role. */
export const SERVER_USER = 'memengine';
/** Time limit of each command run to initialise, check or stop a server. */
const COMMAND_TIMEOUT_MS = 120_000;

/** Runs the server's programs as the user that owns its clusters. */
export interface ServerRunner {
  /** Runs a server binary to completion as that user. */
  run(command: string, args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** Hands a path this process created over to that user. */
  chown(file: string): Promise<void>;
  /** Fails with a clear message when that user cannot execute the server binaries. */
  check(binDir: string): Promise<void>;
  /** Fails with a clear message when that user cannot enter `dir`. */
  checkSearchable(dir: string): Promise<void>;
  /** The ids to spawn a long-running server with; undefined when it runs as this process. */
  ids: { uid: number; gid: number } | undefined;
}

/**
 * The runner for this process: itself, or as root the system user
 * {@link SERVER_USER} (created with `useradd` when missing), because
 * PostgreSQL refuses to run as root.
 */
export async function serverRunner(env: NodeJS.ProcessEnv, log: Log): Promise<ServerRunner> {
  const options: RunOptions = { env, timeoutMs: COMMAND_TIMEOUT_MS };
  if (process.getuid?.() !== 0) {
    return {
      run: (command, args) => run(command, args, options),
      chown: async () => {},
      check: async (binDir) => {
        await run(path.join(binDir, 'postgres'), ['--version'], options);
      },
      checkSearchable: (dir) => fs.access(dir, fs.constants.X_OK),
      ids: undefined,
    };
  }
  const ids = await ensureSystemUser(SERVER_USER, 'to run PostgreSQL (it refuses to run as root)', {
    ...options,
    log,
  });
  const asUser = (command: string, args: string[]) =>
    runAsUser(SERVER_USER, command, args, options);
  const mustReach = async (probe: () => Promise<unknown>, what: string) => {
    try {
      await probe();
    } catch (error) {
      throw new Error(
        `the system user ${SERVER_USER} cannot ${what}: every directory above it must be ` +
          'searchable by other users (chmod o+x)',
        { cause: error },
      );
    }
  };
  return {
    run: asUser,
    chown: (file) => fs.chown(file, ids.uid, ids.gid),
    check: (binDir) =>
      mustReach(
        () => asUser(path.join(binDir, 'postgres'), ['--version']),
        `run ${binDir}/postgres`,
      ),
    checkSearchable: (dir) => mustReach(() => asUser('test', ['-x', dir]), `enter ${dir}`),
    ids,
  };
}
