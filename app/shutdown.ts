import type { Logger } from 'pino';

/**
 * What the stack opened, closed in reverse order on shutdown: each part is
 * registered as soon as it is open, so a start-up that fails half-way closes
 * exactly what it had started. A step that fails is logged; the rest still run.
 */
export interface Shutdown {
  add(name: string, close: () => Promise<unknown>): void;
  stop(): Promise<void>;
}

export function createShutdown(logger: Logger): Shutdown {
  const closers: { name: string; close: () => Promise<unknown> }[] = [];
  return {
    add(name, close) {
      closers.push({ name, close });
    },
    async stop() {
      for (const { name, close } of closers.splice(0).reverse()) {
        try {
          await close();
        } catch (error) {
          logger.warn({ err: error, part: name }, 'shutdown step failed');
        }
      }
    },
  };
}
