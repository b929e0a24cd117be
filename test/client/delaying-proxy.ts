import net from 'node:net';

/**
 * A TCP relay on loopback to a real server that holds every chunk of the
 * server's answers for `delayMs` (settable while it runs): a slow API, for
 * timeouts and aborts, with the real one behind it.
 */
export interface DelayingProxy {
  url: string;
  delayMs: number;
  /** Connections the proxy has accepted so far. */
  connections: number;
  close(): Promise<void>;
}

export async function startDelayingProxy(target: string, delayMs: number): Promise<DelayingProxy> {
  const { hostname, port } = new URL(target);
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = net.createServer((client) => {
    proxy.connections++;
    const upstream = net.connect(Number(port), hostname);
    track(client);
    track(upstream);
    client.pipe(upstream);
    upstream.on('data', (chunk) => {
      setTimeout(() => {
        if (!client.destroyed) client.write(chunk);
      }, proxy.delayMs);
    });
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => setTimeout(() => client.destroy(), proxy.delayMs));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  const proxy: DelayingProxy = {
    url: `http://127.0.0.1:${address.port}`,
    delayMs,
    connections: 0,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
  return proxy;
}
