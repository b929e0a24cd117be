import { aptInstall, findCommand, type Log } from '../../infra/process/process-tools.ts';

// Debian names the binary `chromium`; other distributions and older Ubuntus ship the others.
const BINARIES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];
const FALLBACK_DIRS = ['/usr/bin', '/usr/local/bin', '/snap/bin'];

export interface EnsureChromiumOptions {
  /** Receives progress and status lines. */
  log?: Log;
  /** Environment to read `PATH` from (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

async function findChromium(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const binary of BINARIES) {
    const found = await findCommand(binary, env, FALLBACK_DIRS);
    if (found) return found;
  }
  return undefined;
}

/**
 * The path of a Chromium the browser tests can drive (headless, through
 * playwright-core, which never downloads a browser of its own). Finds one on
 * `PATH` or in the usual system directories; when there is none and this
 * process is root (CI), installs Debian's `chromium` package with apt-get
 * first (running `apt-get update` only when the install fails without it).
 * Idempotent: a second call finds what the first installed.
 */
export async function ensureChromium(options: EnsureChromiumOptions = {}): Promise<string> {
  const { log = () => {}, env = process.env } = options;
  const found = await findChromium(env);
  if (found) return found;
  if (process.getuid?.() !== 0) {
    throw new Error(
      `no Chromium was found on PATH or in ${FALLBACK_DIRS.join(', ')}, and only root may ` +
        'install it here: run `sudo apt-get install -y chromium` (Debian) or install ' +
        'Chromium or Chrome another way, then try again',
    );
  }
  const started = Date.now();
  log('chromium not found: installing the chromium package with apt-get');
  await aptInstall(['chromium'], {
    env,
    log,
    timeoutMs: 600_000,
    update: 'on-failure',
    // Waits for another apt/dpkg run (a parallel test process, say) instead of failing on its lock.
    aptOptions: ['-o', 'DPkg::Lock::Timeout=120'],
    installOptions: ['--no-install-recommends'],
  });
  const installed = await findChromium(env);
  if (!installed) {
    throw new Error('apt-get installed chromium, but no chromium binary is to be found');
  }
  log(`installed ${installed} in ${Date.now() - started} ms`);
  return installed;
}
