import type { Client } from '@temporalio/client';
import type { Config } from '../infra/config.ts';

/**
 * Runs `work` with a Temporal client for the stack the environment
 * configures (`TEMPORAL_ADDRESS`, or the dev server `npm start` runs), then
 * closes the connection. Loaded only by the verbs that steer workflows, so
 * the API verbs start without Temporal's SDK.
 */
export async function withTemporal<T>(
  work: (temporal: { client: Client; config: Config }) => Promise<T>,
): Promise<T> {
  const [{ loadConfig }, { createTemporalClient }] = await Promise.all([
    import('../infra/config.ts'),
    import('../infra/temporal/connection.ts'),
  ]);
  const config = loadConfig();
  const { client, connection } = await createTemporalClient(config);
  try {
    return await work({ client, config });
  } finally {
    await connection.close();
  }
}

/**
 * `work`, or a clear error after `ms`: queries and updates wait for a worker
 * to answer, and an operator wants an answer instead.
 */
export function answeredWithin<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no ${what} answered within ${ms / 1000} s (is its worker running?)`)),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with `work`, or rejects with the reason of `signal` when it fires first. */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason as Error);
    signal.addEventListener('abort', stop, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}
