import type { Memory } from './api-types.ts';
import { MemoryEngineError } from './errors.ts';
import { backoffDelay, parseRetryAfter, retryableStatus } from './retry.ts';
import {
  describeFailure,
  errorOfAnswer,
  keyFor,
  newRequestId,
  urlOf,
  type CallOptions,
  type RequestSpec,
  type TransportOptions,
} from './transport.ts';

/** One memory as an export line: every field of its newest revision (times in UTC with microseconds). */
export type ExportedMemoryLine = { type: 'memory'; external_id: string | null } & Memory;

/** The user's narrative, the first line of an export asked for with `narrative: true`. */
export interface ExportedNarrativeLine {
  type: 'narrative';
  content: string;
  version: number;
  data_version: number;
  model: string;
  created_at: string;
}

/** A line of `GET /v1/export`. */
export type ExportLine = ExportedMemoryLine | ExportedNarrativeLine;

export interface ExportOptions {
  /** Start with the user's current narrative (when one is written). */
  narrative?: boolean;
}

export interface ImportOptions {
  /** Refuse the whole file (store nothing) if any line is bad. */
  allOrNothing?: boolean;
}

/** What `import` sends: text, bytes, or a stream of bytes read as it is sent. */
export type ImportBody =
  string | Uint8Array | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/**
 * A streaming call: `timeoutMs` bounds the wait for the answer to begin
 * (for an import, the whole upload: the answer comes once every line is
 * read; default: no bound), and the caller's `signal` the whole of it.
 */
export type StreamCallOptions = CallOptions;

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), reject(signal.reason)), {
      once: true,
    });
  });

/** A body fetch can send: an async iterable becomes a stream pulled as the request is sent. */
function sendable(body: ImportBody): RequestInit['body'] {
  if (typeof body === 'string' || body instanceof Uint8Array || body instanceof ReadableStream) {
    return body as RequestInit['body'];
  }
  const iterator = body[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

/**
 * Sends one streaming request and resolves to its successful response (its
 * body not yet read). A 429, and a 503 or network failure of a request safe
 * to repeat (a replayable body), are retried as other calls are.
 */
export async function openStream(
  options: TransportOptions,
  spec: RequestSpec & { stream?: ImportBody; contentType?: string },
  call: StreamCallOptions = {},
): Promise<{ response: Response; requestId: string }> {
  const requestId = call.requestId ?? newRequestId();
  const key = keyFor(options, spec, requestId);
  const replayable = spec.stream === undefined || typeof spec.stream === 'string' || spec.stream instanceof Uint8Array; // prettier-ignore
  const maxAttempts = replayable ? Math.max(1, call.maxAttempts ?? options.retry.maxAttempts) : 1;
  const controller = new AbortController();
  const onAbort = () => controller.abort(call.signal?.reason);
  call.signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer =
    call.timeoutMs === undefined
      ? undefined
      : setTimeout(() => ((timedOut = true), controller.abort()), call.timeoutMs);
  const stopped = (attempts: number, cause?: unknown) =>
    new MemoryEngineError({
      code: timedOut ? 'client_timeout' : 'aborted',
      message: timedOut
        ? `no answer within ${call.timeoutMs} ms`
        : 'the call was aborted by its caller',
      status: null,
      requestId,
      attempts,
      cause,
    });
  try {
    for (let attempt = 1; ; attempt++) {
      let error: MemoryEngineError;
      let retryable: boolean;
      try {
        const response = await options.fetch(urlOf(options.baseUrl, spec), {
          method: spec.method,
          headers: {
            ...options.headers,
            'x-request-id': requestId,
            ...(key ? { authorization: `Bearer ${key}` } : {}),
            ...(spec.stream !== undefined
              ? { 'content-type': spec.contentType ?? 'application/x-ndjson' }
              : {}),
          },
          ...(spec.stream !== undefined ? { body: sendable(spec.stream), duplex: 'half' } : {}),
          signal: controller.signal,
        } as RequestInit);
        if (response.ok) return { response, requestId };
        const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
        error = errorOfAnswer(
          response.status,
          await response.text(),
          requestId,
          retryAfterMs,
          attempt,
        );
        retryable = retryableStatus(response.status, replayable);
      } catch (cause) {
        if (controller.signal.aborted) throw stopped(attempt, cause);
        error = new MemoryEngineError({
          code: 'network_error',
          message: `could not reach ${options.baseUrl}: ${describeFailure(cause)}`,
          status: null,
          requestId,
          attempts: attempt,
          cause,
        });
        retryable = replayable;
      }
      if (!retryable || attempt >= maxAttempts) throw error;
      const delayMs = error.retryAfterMs ?? backoffDelay(attempt, options.retry);
      options.onRetry?.({ method: spec.method, path: spec.path, attempt, delayMs, error });
      await sleep(delayMs, controller.signal).catch((cause: unknown) => {
        throw stopped(attempt, cause);
      });
    }
  } finally {
    clearTimeout(timer);
    call.signal?.removeEventListener('abort', onAbort);
  }
}

/** The response's body as it arrives, chunk by chunk; a cut-off body is a `network_error`. */
export async function* bodyChunks(
  response: Response,
  requestId: string,
): AsyncGenerator<Uint8Array> {
  if (!response.body) return;
  const reader = response.body.getReader();
  try {
    for (;;) {
      let read: Awaited<ReturnType<typeof reader.read>>;
      try {
        read = await reader.read();
      } catch (cause) {
        throw new MemoryEngineError({
          code: 'network_error',
          message: `the answer was cut off: ${describeFailure(cause)}`,
          status: response.status,
          requestId,
          cause,
        });
      }
      if (read.done) return;
      yield read.value;
    }
  } finally {
    reader.releaseLock();
    await response.body.cancel().catch(() => undefined);
  }
}

/** NDJSON chunks as parsed lines. */
export async function* jsonLines<T>(chunks: AsyncIterable<Uint8Array>): AsyncGenerator<T> {
  const decoder = new TextDecoder();
  let rest = '';
  for await (const chunk of chunks) {
    rest += decoder.decode(chunk, { stream: true });
    const lines = rest.split('\n');
    rest = lines.pop() ?? '';
    for (const line of lines) if (line.trim() !== '') yield JSON.parse(line) as T;
  }
  rest += decoder.decode();
  if (rest.trim() !== '') yield JSON.parse(rest) as T;
}
