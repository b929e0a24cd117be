import type http from 'node:http';
import { WireError } from './emulator-protocol.ts';

// The emulator's HTTP plumbing: JSON in and out, and waits that end when the client goes.

const MAX_BODY_BYTES = 20 * 1024 * 1024;

export function send(res: http.ServerResponse, status: number, body: unknown, headers = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify(body));
}

/** Resolves once the client gives up or the emulator closes: an injected timeout. */
export function holdUntilGone(res: http.ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => res.once('close', () => resolve()));
}

/** Resolves true after `ms`, or false as soon as the connection goes away. */
export function waitUnlessGone(ms: number, res: http.ServerResponse): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    res.once('close', onClose);
  });
}

export async function readJson(req: http.IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new WireError(413, 'Request payload size exceeds the limit');
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch {
    throw new WireError(400, 'Invalid JSON payload received.');
  }
}
