import { findCommand, type Log } from '../../infra/process/process-tools.ts';
import { ensureSystemCommand } from '../../infra/process/system-setup.ts';

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
  return ensureSystemCommand({
    env,
    log,
    find: () => findChromium(env),
    command: 'chromium',
    aptPackage: 'chromium',
    timeoutMs: 600_000,
    notRootError:
      `no Chromium was found on PATH or in ${FALLBACK_DIRS.join(', ')}, and only root may ` +
      'install it here: run `sudo apt-get install -y chromium` (Debian) or install ' +
      'Chromium or Chrome another way, then try again',
    stillMissingError: 'apt-get installed chromium, but no chromium binary is to be found',
  });
}
