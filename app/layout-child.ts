// The contract between the parent of `PROCESSES=api,worker` (process-layout.ts)
// and the API and worker processes it starts: how a child knows it has a
// parent, how it says it is ready, and where its shared limits live.
import type { Config } from '../infra/config.ts';

/** Set by the parent in its children's environment: `api` or `worker`. */
export const LAYOUT_CHILD_ENV = 'MEMENGINE_LAYOUT_CHILD';
/** Set by the parent: `ipc` when it holds the shared buckets, `redis` when Redis does. */
export const SHARED_LIMITS_ENV = 'MEMENGINE_SHARED_LIMITS';
/** Set by the parent to DATABASE_URL when that is the local PostgreSQL it runs on this machine. */
export const LOCAL_DATABASE_ENV = 'MEMENGINE_LOCAL_DATABASE';

const READY = 'memengine:ready';

/** What a child sends its parent once it serves. */
export interface ReadyMessage {
  type: typeof READY;
  /** The API's address (an API process), or null (a worker process). */
  apiUrl: string | null;
}

export function isReadyMessage(message: unknown): message is ReadyMessage {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === READY
  );
}

/** True in a process a layout parent started (and that still has its IPC channel to it). */
export function hasLayoutParent(): boolean {
  return Boolean(process.env[LAYOUT_CHILD_ENV]) && typeof process.send === 'function';
}

/** True when `url` is the local PostgreSQL this process's layout parent runs. */
export function isParentsLocalDatabase(url: string | null): boolean {
  return url !== null && hasLayoutParent() && process.env[LOCAL_DATABASE_ENV] === url;
}

/** Tells the parent this process serves (nothing without a parent). */
export function announceReady(apiUrl: string | null): void {
  if (!hasLayoutParent()) return;
  const message: ReadyMessage = { type: READY, apiUrl };
  process.send?.(message, undefined, undefined, () => undefined);
}

/**
 * Where this process's per-user and planning buckets live: `redis` when
 * `REDIS_URL` is set (one limit for every process on every machine), `ipc`
 * in a child whose parent holds them, `local` otherwise (one process).
 */
export function sharedLimitsMode(config: Config): 'redis' | 'ipc' | 'local' {
  if (config.REDIS_URL) return 'redis';
  if (process.env[SHARED_LIMITS_ENV] === 'ipc' && hasLayoutParent()) return 'ipc';
  return 'local';
}
