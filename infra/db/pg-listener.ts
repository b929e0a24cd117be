import pg from 'pg';

/** What a {@link listenPg} subscriber is told. */
export interface ListenHandlers {
  /** A notification's payload. */
  onMessage(payload: string): void;
  /** `LISTEN` is in place: from now on no notification on the channel is missed. */
  onReady(): void;
  /** The connection went away: notifications may be missed until `onReady` again. */
  onLost(error?: Error): void;
}

export interface PgListenOptions {
  url: string;
  connectTimeoutMs: number;
  /** The first wait before reconnecting; doubles up to 10 s. */
  retryMs?: number;
}

/**
 * Listens on one PostgreSQL channel over a connection of its own (not the
 * pool's: a pooled client would stop hearing the channel once released), and
 * reconnects with backoff when the connection drops. Returns the closer.
 */
export function listenPg(
  options: PgListenOptions,
  channel: string,
  handlers: ListenHandlers,
): () => Promise<void> {
  const firstRetryMs = options.retryMs ?? 250;
  let retryMs = firstRetryMs;
  let client: pg.Client | null = null;
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  const lost = (current: pg.Client, error?: Error) => {
    if (client !== current) return;
    client = null;
    handlers.onLost(error);
    current.removeAllListeners();
    // A failed client still has its socket: end it, and keep its late errors from escaping.
    current.on('error', () => {});
    void current.end().catch(() => {});
    if (!closed) {
      timer = setTimeout(connect, retryMs);
      timer.unref();
      retryMs = Math.min(retryMs * 2, 10_000);
    }
  };

  const connect = () => {
    timer = null;
    if (closed) return;
    const current = new pg.Client({
      connectionString: options.url,
      connectionTimeoutMillis: options.connectTimeoutMs,
      application_name: 'memory-engine-listener',
    });
    client = current;
    current.on('error', (error) => lost(current, error));
    current.on('end', () => lost(current));
    current.on('notification', (message) => {
      if (message.channel === channel) handlers.onMessage(message.payload ?? '');
    });
    current
      .connect()
      .then(() => current.query(`LISTEN ${pg.escapeIdentifier(channel)}`))
      .then(() => {
        if (client !== current) return;
        retryMs = firstRetryMs;
        handlers.onReady();
      })
      .catch((error: Error) => lost(current, error));
  };

  connect();
  return async () => {
    closed = true;
    if (timer) clearTimeout(timer);
    const current = client;
    client = null;
    if (current) {
      current.removeAllListeners();
      current.on('error', () => {});
      await current.end().catch(() => {});
    }
  };
}
