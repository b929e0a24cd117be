import net from 'node:net';
import { freePort, LOOPBACK } from '../../infra/process/service-tools.ts';

/**
 * A TCP relay on a loopback port to a real server, that a test can take down
 * (every connection cut, new ones refused) and bring back on the same port:
 * an outage of a shared server without stopping it for the other tests.
 */
export interface TcpProxy {
  port: number;
  /** Cuts every open connection and stops listening: connects are refused. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const port = await freePort();
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  let server: net.Server | undefined;
  const up = () =>
    new Promise<void>((resolve, reject) => {
      const listening = net.createServer((client) => {
        const upstream = net.connect(target.port, target.host);
        track(client);
        track(upstream);
        client.pipe(upstream).pipe(client);
        client.once('close', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
      });
      listening.once('error', reject);
      listening.listen(port, LOOPBACK, () => {
        server = listening;
        resolve();
      });
    });
  const down = async () => {
    const closing = server;
    server = undefined;
    if (!closing) return;
    const closed = new Promise<void>((resolve) => closing.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await up();
  return { port, up, down, close: down };
}
