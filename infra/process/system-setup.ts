import { errorMessage, run, type Log, type RunOptions } from './process-tools.ts';

// What only root does to the machine: installing Debian packages and creating
// system users for the local services (CI runs as root; a developer's machine
// gets advice instead).

export interface AptInstallOptions {
  env: NodeJS.ProcessEnv;
  log: Log;
  /** How long `apt-get install` may take; `apt-get update` gets five minutes. */
  timeoutMs: number;
  /**
   * `'first'` refreshes the package lists before installing; `'on-failure'`
   * only when the install fails without it, then tries once more.
   */
  update: 'first' | 'on-failure';
  /** Options before the apt-get command, for update and install alike. */
  aptOptions?: string[];
  /** Options of `apt-get install` after `-y`. */
  installOptions?: string[];
}

/** Installs Debian packages with apt-get, non-interactively; needs root. */
export async function aptInstall(packages: string[], options: AptInstallOptions): Promise<void> {
  const { log, timeoutMs, aptOptions = [], installOptions = [] } = options;
  const env = { ...options.env, DEBIAN_FRONTEND: 'noninteractive' };
  const update = () => run('apt-get', [...aptOptions, 'update'], { env, timeoutMs: 300_000 });
  const install = () =>
    run('apt-get', [...aptOptions, 'install', '-y', ...installOptions, ...packages], {
      env,
      timeoutMs,
    });
  if (options.update === 'first') await update();
  try {
    await install();
  } catch (error) {
    if (options.update === 'first') throw error;
    const firstLine = errorMessage(error).split('\n')[0] ?? '';
    log(`apt-get install failed (${firstLine}); running apt-get update and trying once more`);
    await update();
    await install();
  }
}

/**
 * Runs a command as `user` through `runuser`, which executes it directly (no
 * shell), so no argument needs quoting. The working directory is `/`, which
 * every user may enter. Needs root.
 */
export function runAsUser(
  user: string,
  command: string,
  args: string[],
  options: RunOptions,
): Promise<{ stdout: string; stderr: string }> {
  return run('runuser', ['-u', user, '--', command, ...args], { ...options, cwd: '/' });
}

/**
 * Returns the ids of the unprivileged system user `name`, creating it (no
 * home, no login shell) when it is missing; `purpose` completes the log line
 * "creating the system user <name> …". Needs root to create it.
 */
export async function ensureSystemUser(
  name: string,
  purpose: string,
  options: RunOptions & { log: Log },
): Promise<{ uid: number; gid: number }> {
  const lookup = async () => {
    const [uid, gid] = await Promise.all([
      run('id', ['-u', name], options),
      run('id', ['-g', name], options),
    ]);
    return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
  };
  try {
    return await lookup();
  } catch {
    options.log(`creating the system user ${name} ${purpose}`);
  }
  try {
    await run(
      'useradd',
      [
        ...['--system', '--user-group', '--no-create-home'],
        ...['--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', name],
      ],
      options,
    );
  } catch (error) {
    // Exit status 9: another process created the same user meanwhile.
    if ((error as { cause?: { code?: unknown } }).cause?.code !== 9) throw error;
  }
  return lookup();
}

export interface SystemCommandOptions {
  env: NodeJS.ProcessEnv;
  log: Log;
  /** Looks for the command; undefined while it is missing. */
  find: () => Promise<string | undefined>;
  /** The missing command as log lines name it: `<command> not found: installing …`. */
  command: string;
  /** The Debian package that provides it. */
  aptPackage: string;
  /** How long `apt-get install` may take. */
  timeoutMs: number;
  /** The error when it is missing and this process is not root, with advice on installing it. */
  notRootError: string;
  /** The error when the package installed but `find` still finds nothing. */
  stillMissingError: string;
}

/**
 * The path `find` finds; when it finds nothing and this process is root
 * (CI), installs `aptPackage` with apt-get first (running `apt-get update`
 * only when the install fails without it) and looks again.
 */
export async function ensureSystemCommand(options: SystemCommandOptions): Promise<string> {
  const { env, log, find } = options;
  const found = await find();
  if (found) return found;
  if (process.getuid?.() !== 0) throw new Error(options.notRootError);
  const started = Date.now();
  log(`${options.command} not found: installing the ${options.aptPackage} package with apt-get`);
  await aptInstall([options.aptPackage], {
    env,
    log,
    timeoutMs: options.timeoutMs,
    update: 'on-failure',
    // Waits for another apt/dpkg run (a parallel test process, say) instead of failing on its lock.
    aptOptions: ['-o', 'DPkg::Lock::Timeout=120'],
    installOptions: ['--no-install-recommends'],
  });
  const installed = await find();
  if (!installed) throw new Error(options.stillMissingError);
  log(`installed ${installed} in ${Date.now() - started} ms`);
  return installed;
}
