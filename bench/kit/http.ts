// The benchmarks' client of the product's API: the typed client of `client/`, over
// node:http with kept-alive connections, one request per call unless a call says otherwise.
import nodeHttp from 'node:http';
import {
  isMemoryEngineError,
  MemoryEngineClient,
  type CallOptions,
} from '../../client/src/index.ts';

export const REQUEST_TIMEOUT_MS = 30_000;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- loosely typed JSON bodies
export type Json = Record<string, any>;

// node:http with kept-alive connections, not fetch: the load generator shares a core with
// the database, and fetch costs it several times the CPU per request. Sockets for
// `--sessions 1000` with background saves on top (each session has one request open).
const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: 4096 });

/** Statuses whose answer has no body (a `Response` refuses one). */
const NULL_BODY = new Set([204, 205, 304]);

/**
 * A `fetch` over node:http and the benchmarks' keep-alive agent, for the
 * client's `fetch` option: it takes a URL, a method, headers, a string body
 * and a signal, which is all the client sends.
 */
export const nodeFetch: typeof fetch = (input, init = {}) => {
  if (input instanceof Request) throw new TypeError('nodeFetch takes a URL, not a Request');
  const payload = init.body ?? undefined;
  if (payload !== undefined && typeof payload !== 'string') {
    throw new TypeError('nodeFetch sends string bodies only');
  }
  const headers =
    init.headers instanceof Headers || Array.isArray(init.headers)
      ? Object.fromEntries(new Headers(init.headers))
      : (init.headers ?? {});
  const { signal } = init;
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const req = nodeHttp.request(
      input,
      {
        method: init.method ?? 'GET',
        agent,
        headers: {
          ...headers,
          ...(payload !== undefined ? { 'content-length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', fail);
        res.on('end', () => {
          signal?.removeEventListener('abort', abort);
          const status = res.statusCode ?? 0;
          const answer = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) {
              answer.append(name, v);
            }
          }
          const text = NULL_BODY.has(status) ? null : Buffer.concat(chunks).toString('utf8');
          resolve(new Response(text, { status, headers: answer }));
        });
      },
    );
    function abort() {
      req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
    }
    function fail(error: Error) {
      signal?.removeEventListener('abort', abort);
      reject(error);
    }
    signal?.addEventListener('abort', abort, { once: true });
    req.on('error', fail);
    req.end(payload);
  });
};

const clients = new Map<string, MemoryEngineClient>();

/**
 * The client of the API at `base` with `keys`, one per base and keys. Retries
 * are off, so a measured call is one request and sees every 429 and 503 as it
 * comes; calls around the measurement pass {@link SETUP_CALL}.
 */
export function apiClient(
  base: string,
  keys: { apiKey?: string; adminKey?: string },
): MemoryEngineClient {
  const id = `${base} ${keys.apiKey ?? ''} ${keys.adminKey ?? ''}`;
  let client = clients.get(id);
  if (!client) {
    client = new MemoryEngineClient({
      baseUrl: base,
      ...keys,
      fetch: nodeFetch,
      timeoutMs: REQUEST_TIMEOUT_MS,
      retry: { maxAttempts: 1 },
    });
    clients.set(id, client);
  }
  return client;
}

/** The client acting for the user whose API key is `key`. */
export const userClient = (base: string, key: string) => apiClient(base, { apiKey: key });

/**
 * For calls around the measurement (creating users, seeding, listing):
 * seeding outruns the rate limiter at times, so these wait as a 429 asks (and
 * retry a 503 where safe) rather than fail the run.
 */
export const SETUP_CALL: CallOptions = { maxAttempts: 30, timeoutMs: 120_000 };

/**
 * What a failed measured call goes down as: the API's status (0 when none
 * came) and its error code, or the client's (`client_timeout`, `network_error`).
 */
export function failedSample(error: unknown): { ok: false; status: number; error: string } {
  if (isMemoryEngineError(error))
    return { ok: false, status: error.status ?? 0, error: error.code };
  return { ok: false, status: 0, error: error instanceof Error ? error.name : String(error) };
}
