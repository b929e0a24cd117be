import type { Logger } from 'pino';
import { ConfigError, loadConfig, type Config } from '../infra/config.ts';
import { createLogger } from '../infra/logger.ts';
import { withAdminKey } from './admin-key.ts';
import { announceReady, hasLayoutParent } from './layout-child.ts';
import { startProcessLayout } from './process-layout.ts';
import { startStack, type StackRole } from './stack.ts';

/** What an entry point started, whichever the layout. */
interface Running {
  apiUrl: string | null;
  temporalAddress: string;
  temporalUiUrl: string | null;
  /** The process layout's line, with `PROCESSES=api,worker`. */
  summary?: string;
  stop(): Promise<void>;
}

function loadOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`memory-engine: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
}

/**
 * `all` with `PROCESSES=api,worker` is the parent of API and worker
 * processes (process-layout.ts); otherwise the parts run in this process.
 */
async function start(config: Config, logger: Logger, role: StackRole): Promise<Running> {
  try {
    // Before any child starts: the processes of a layout read the key the parent kept.
    const keyed = await withAdminKey(config, logger, { announce: !hasLayoutParent() });
    if (role === 'all' && keyed.PROCESSES === 'split')
      return await startProcessLayout(keyed, logger);
    return await startStack(keyed, logger, role);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    logger.fatal({ err: error }, 'start-up failed');
    console.error(`memory-engine: start-up failed: ${reason}`);
    process.exit(1);
  }
}

function printWhere(config: Config, role: StackRole, running: Running): void {
  const { apiUrl } = running;
  const lines = [
    apiUrl && `API          ${apiUrl}   (health ${apiUrl}/readyz)`,
    apiUrl && `Dashboard    ${apiUrl}/dashboard`,
    `Temporal     ${running.temporalAddress} (namespace ${config.TEMPORAL_NAMESPACE})`,
    running.temporalUiUrl && `Temporal UI  ${running.temporalUiUrl}`,
    running.summary && `Processes    ${running.summary}`,
  ].filter(Boolean);
  const label = running.summary ? 'api,worker' : role;
  console.log(`\nmemory-engine is up (${label}):\n  ${lines.join('\n  ')}\n`);
}

/**
 * The body of every long-running entry point: validate the configuration,
 * start the parts `role` asks for, print where they are, stop cleanly on
 * SIGINT/SIGTERM. A start-up failure is one clear line and a non-zero exit.
 *
 * A child of the process layout prints nothing (its parent does), tells its
 * parent when it serves, ignores SIGINT (Ctrl-C reaches the whole terminal
 * group; the parent orders the shutdown, API processes before workers) and
 * stops by itself when its parent is gone.
 */
/** Signals this soon after the first are copies of it (see `shutdown` below). */
const REPEAT_WINDOW_MS = 2_000;

export async function runStack(role: StackRole): Promise<void> {
  const config = loadOrExit();
  const logger = createLogger(config.LOG_LEVEL, {
    format: config.LOG_FORMAT,
    // The processes of PROCESSES=api,worker share one terminal.
    showPid: config.PROCESSES === 'split',
  });
  const running = await start(config, logger, role);
  const child = hasLayoutParent();
  if (child) {
    logger.info({ role, apiUrl: running.apiUrl }, 'serving');
    announceReady(running.apiUrl);
  } else {
    printWhere(config, role, running);
  }

  let stopping: number | null = null;
  const shutdown = (signal: string) => {
    if (stopping !== null) {
      // One Ctrl-C arrives several times at once (from the terminal, and relayed by npm, the
      // bootstrap and tsx): only a second press, later, means "stop waiting".
      if (Date.now() - stopping < REPEAT_WINDOW_MS) return;
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = Date.now();
    logger.info({ signal }, 'shutting down');
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => {
    if (child) logger.info('SIGINT: waiting for the parent process to order the shutdown');
    else shutdown('SIGINT');
  });
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  if (child) {
    process.on('disconnect', () => {
      if (stopping === null) shutdown('parent process gone');
    });
  }
}
