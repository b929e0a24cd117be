import { pino, type Logger } from 'pino';

/** The process logger: JSON lines on stdout, one message plus an object. */
export function createLogger(level: string, name = 'memory-engine'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}

export type { Logger };
