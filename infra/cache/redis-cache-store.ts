import { within } from '../../core/concurrency/limits.ts';
import { ClientClosedError, ClientOfflineError, createClient, TimeoutError } from 'redis';
import { AppError } from '../../core/errors.ts';
import type { CacheStore } from '../../core/ports/cache-store.ts';

export interface RedisCacheStoreOptions {
  /** `redis://[[user]:password@]host[:port][/db]` */
  url: string;
  /** Prepended to every key so several stores can share one server (default `memengine:`). */
  keyPrefix?: string;
  /**
   * How long one call may wait for its reply (default 500 ms). A call that
   * runs out of time also drops the connection, which is then replaced in the
   * background: a server that stopped answering is treated as down.
   */
  commandTimeoutMs?: number;
  /** How long one TCP connect may take, and how long the factory waits for Redis (default 1 s). */
  connectTimeoutMs?: number;
  /**
   * Resolve even when Redis is unreachable at start-up: every call then fails
   * fast with `dependency_unavailable` until the background reconnect
   * succeeds. By default the factory rejects instead.
   */
  allowStartOffline?: boolean;
  /**
   * Told about connection trouble once per outage (connection lost, server
   * not answering, unreachable at start-up), not for every reconnect attempt.
   */
  onError?: (error: Error) => void;
}

const DEFAULT_PREFIX = 'memengine:';
const DEFAULT_COMMAND_TIMEOUT_MS = 500;
const DEFAULT_CONNECT_TIMEOUT_MS = 1_000;
const MAX_RECONNECT_DELAY_MS = 2_000;
/** Bounds the commands held for a server that stopped reading them. */
const MAX_QUEUED_COMMANDS = 10_000;

type RedisClient = ReturnType<typeof createClient>;

class ReplyTimeout extends Error {}

/**
 * A `CacheStore` over a node-redis 5 connection, built to degrade rather than
 * stall: every call has a deadline, nothing is queued while disconnected
 * (calls reject at once), the connection is re-established in the background
 * with capped exponential backoff, and every failure surfaces as
 * `AppError('dependency_unavailable')`, which callers count as a miss.
 * Resolves once the first connection is ready (see `allowStartOffline`).
 */
export async function createRedisCacheStore(options: RedisCacheStoreOptions): Promise<CacheStore> {
  const prefix = options.keyPrefix ?? DEFAULT_PREFIX;
  const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const where = redact(options.url);

  let closed = false;
  let lastError: Error | undefined;
  let inOutage = false;
  const reportOutage = (error: Error) => {
    lastError = error;
    if (inOutage || closed) return;
    inOutage = true;
    options.onError?.(error);
  };

  const open = (): { client: RedisClient; connected: Promise<boolean> } => {
    const client = createClient({
      url: options.url,
      disableOfflineQueue: true,
      commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
      // node-redis applies this only until a command is written; `call` bounds the reply.
      commandOptions: { timeout: commandTimeoutMs },
      // The Enterprise maintenance handshake would add a DNS lookup and a command to every connect.
      maintNotifications: 'disabled',
      socket: {
        connectTimeout: connectTimeoutMs,
        reconnectStrategy: (retries) =>
          Math.min(50 * 2 ** Math.min(retries, 16), MAX_RECONNECT_DELAY_MS) +
          Math.floor(Math.random() * 100),
      },
    });
    // Without a listener an 'error' event would throw and take the process down.
    client.on('error', reportOutage);
    client.on('ready', () => {
      inOutage = false;
    });
    if (closed) client.unref();
    const connected = client.connect().then(
      () => client.isReady,
      () => false,
    );
    return { client, connected };
  };

  const first = open();
  let client = first.client;
  const ready = await within(first.connected, connectTimeoutMs, false);
  if (!ready && !options.allowStartOffline) {
    closed = true;
    destroyQuietly(client);
    throw new AppError(
      'dependency_unavailable',
      `Redis at ${where} did not accept a connection within ${connectTimeoutMs} ms` +
        (lastError ? `: ${lastError.message}` : ''),
      { cause: lastError },
    );
  }
  if (!ready) reportOutage(lastError ?? new Error(`Redis at ${where} is unreachable`));

  /** Replaces a connection whose server stopped answering; late replies die with the old one. */
  const replace = (stale: RedisClient) => {
    if (closed || stale !== client) return;
    reportOutage(new Error(`Redis at ${where} did not answer within ${commandTimeoutMs} ms`));
    client = open().client;
    destroyQuietly(stale);
  };

  const call = async <T>(command: string, run: (c: RedisClient) => Promise<T>): Promise<T> => {
    if (closed) throw new AppError('dependency_unavailable', 'the Redis cache store is closed');
    const used = client;
    let deadline: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        run(used),
        new Promise<never>((_, reject) => {
          deadline = setTimeout(() => reject(new ReplyTimeout()), commandTimeoutMs);
        }),
      ]);
    } catch (error) {
      if (error instanceof ReplyTimeout || error instanceof TimeoutError) replace(used);
      throw unavailable(command, where, error);
    } finally {
      clearTimeout(deadline);
    }
  };
  const key = (k: string): string => prefix + k;

  let closing: Promise<void> | undefined;
  return {
    kind: 'redis',
    get: (k) => call('GET', (c) => c.get(key(k))),
    getMany: async (keys) => {
      if (keys.length === 0) return [];
      return call('MGET', (c) => c.mGet(keys.map(key)));
    },
    set: async (k, value, ttlMs) => {
      if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
        throw new AppError('internal', `cache TTL must be a positive number of ms, got ${ttlMs}`);
      }
      await call('SET', (c) => c.set(key(k), value, { PX: Math.ceil(ttlMs) }));
    },
    delete: async (keys) => {
      if (keys.length === 0) return;
      // UNLINK frees large values off the server's main thread.
      await call('UNLINK', (c) => c.unlink(keys.map(key)));
    },
    ping: async () => {
      await call('PING', (c) => c.ping());
    },
    close: () => {
      closing ??= (async () => {
        closed = true;
        // A connect attempt racing with close must not keep the process alive.
        client.unref();
        if (!client.isReady) {
          destroyQuietly(client);
          return;
        }
        // close() waits for replies in flight; a server that stopped answering gets cut off.
        const graceful = client.close().then(
          () => true,
          () => false,
        );
        const done = await within(graceful, commandTimeoutMs, false);
        if (!done) destroyQuietly(client);
      })();
      return closing;
    },
  };
}

function unavailable(command: string, where: string, error: unknown): AppError {
  if (error instanceof AppError) return error;
  const reason =
    error instanceof ReplyTimeout || error instanceof TimeoutError
      ? 'did not answer in time'
      : error instanceof ClientOfflineError
        ? 'is not connected (reconnecting in the background)'
        : error instanceof ClientClosedError
          ? 'is closed'
          : `failed: ${error instanceof Error ? error.message : String(error)}`;
  return new AppError('dependency_unavailable', `Redis ${command} at ${where} ${reason}`, {
    cause: error,
  });
}

function destroyQuietly(client: RedisClient): void {
  try {
    client.destroy();
  } catch {
    // Already closed.
  }
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}
