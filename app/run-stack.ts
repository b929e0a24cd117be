import { ConfigError, loadConfig } from '../infra/config.ts';
import { createLogger } from '../infra/logger.ts';
import { startStack, type StackRole } from './stack.ts';

/**
 * The body of every long-running entry point: validate the configuration,
 * start the parts `role` asks for, print where they are, stop cleanly on
 * SIGINT/SIGTERM. A start-up failure is one clear line and a non-zero exit.
 */
export async function runStack(role: StackRole): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`memory-engine: ${error.message}`);
      process.exit(2);
    }
    throw error;
  }
  const logger = createLogger(config.LOG_LEVEL);
  const stack = await startStack(config, logger, role).catch((error: unknown) => {
    const reason = error instanceof Error ? error.message : String(error);
    logger.fatal({ err: error }, 'start-up failed');
    console.error(`memory-engine: start-up failed: ${reason}`);
    process.exit(1);
  });

  const lines = [
    stack.apiUrl && `API          ${stack.apiUrl}   (health ${stack.apiUrl}/readyz)`,
    stack.apiUrl && `Dashboard    ${stack.apiUrl}/dashboard`,
    `Temporal     ${stack.temporalAddress} (namespace ${config.TEMPORAL_NAMESPACE})`,
    stack.temporalUiUrl && `Temporal UI  ${stack.temporalUiUrl}`,
  ].filter(Boolean);
  console.log(`\nmemory-engine is up (${role}):\n  ${lines.join('\n  ')}\n`);

  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    stack.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
