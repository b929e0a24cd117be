import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import type { Logger } from 'pino';

let installed = false;

/**
 * Routes the Temporal SDK's own logs into the process logger, at warn and
 * above unless the process logs at debug. Installs once per process.
 */
export function installTemporalRuntime(logger: Logger): void {
  if (installed) return;
  installed = true;
  const level: LogLevel = logger.isLevelEnabled('debug') ? 'DEBUG' : 'WARN';
  const child = logger.child({ component: 'temporal' });
  Runtime.install({
    logger: new DefaultLogger(level, (entry) => {
      const meta = entry.meta ?? {};
      if (entry.level === 'ERROR') child.error(meta, entry.message);
      else if (entry.level === 'WARN') child.warn(meta, entry.message);
      else child.debug(meta, entry.message);
    }),
  });
}
