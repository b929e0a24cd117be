import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';

export interface RunningServer {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/** Listens on `host:port` (port 0 picks a free one) and resolves once bound. */
export async function startServer(
  app: Express,
  host: string,
  port: number,
): Promise<RunningServer> {
  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let stopping: Promise<void> | undefined;
  return {
    port: bound,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    stop() {
      stopping ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Requests still running after a grace period are cut rather than holding shutdown.
        setTimeout(() => server.closeAllConnections(), 5000).unref();
      });
      return stopping;
    },
  };
}
