// The benchmarks' JSON HTTP client.
import nodeHttp from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

export const REQUEST_TIMEOUT_MS = 30_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely typed JSON bodies
export type Json = Record<string, any>;

// node:http with kept-alive connections, not fetch: the load generator shares a core with
// the database, and fetch costs it several times the CPU per request. Sockets for
// `--sessions 1000` with background saves on top (each session has one request open).
const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: 4096 });

/** One JSON request; the body is parsed when it is JSON, else kept (shortened) as `raw`. */
export function http(
  base: string,
  method: string,
  route: string,
  options: { key?: string; body?: unknown; timeoutMs?: number } = {},
): Promise<{ status: number; body: Json | undefined; retryAfter?: string | undefined }> {
  const payload = options.body !== undefined ? JSON.stringify(options.body) : undefined;
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request(
      new URL(route, base),
      {
        method,
        agent,
        headers: {
          ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
          ...(payload !== undefined
            ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          clearTimeout(timer);
          const text = Buffer.concat(chunks).toString('utf8');
          let body: Json | undefined;
          try {
            body = text ? (JSON.parse(text) as Json) : undefined;
          } catch {
            body = { raw: text.slice(0, 200) };
          }
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, body, retryAfter });
        });
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`${method} ${route}: no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    function fail(error: Error) {
      clearTimeout(timer);
      reject(error);
    }
    req.on('error', fail);
    req.end(payload);
  });
}

/**
 * A POST that must succeed (200 or 201): its body and the client-side wall
 * time; any other status throws with the start of the body.
 */
export async function postOk(
  base: string,
  route: string,
  key: string,
  body: unknown,
): Promise<{ body: Json; ms: number }> {
  const t0 = performance.now();
  let res = await http(base, 'POST', route, { key, body });
  // Seeding outruns the rate limiter at times: wait as it asks rather than fail the run.
  for (let retries = 0; res.status === 429 && retries < 30; retries++) {
    await sleep(retryAfterMs(res.retryAfter));
    res = await http(base, 'POST', route, { key, body });
  }
  const ms = performance.now() - t0;
  if (res.status !== 200 && res.status !== 201) {
    throw new Error(`POST ${route}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }
  return { body: res.body!, ms };
}

/** How long a 429 asks to wait (its `Retry-After` seconds), 1 s when it does not say. */
function retryAfterMs(header: string | undefined): number {
  const seconds = Number(header);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 60) * 1000 : 1000;
}
