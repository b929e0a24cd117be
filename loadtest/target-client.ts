import { setMaxListeners } from 'node:events';
import { parseMemoryHeader, snapshotFromMetrics } from './target-readings.ts';
import type { TargetSnapshot } from './types.ts';

const REQUEST_TIMEOUT_MS = 30_000;

/** One answer: status, parsed JSON body, and the target's `X-Memory-Usage`. */
export interface Reply {
  status: number;
  body: Record<string, unknown> | undefined;
  memory: string | null;
  /** `Retry-After` of a refused request, in seconds. */
  retryAfter?: string | null;
}

/**
 * A JSON client for the API under test, over global fetch (keep-alive by
 * default); `signal` aborts every request. Every answer's `X-Memory-Usage`
 * goes to the `onMemory` listeners.
 */
export function createTargetClient(origin: string, signal: AbortSignal) {
  // Every session's request and pause listens for cancellation on this one signal.
  setMaxListeners(0, signal);
  const listeners = new Set<(header: string | null) => void>();
  const deadline = () => AbortSignal.any([signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]);
  async function call(
    method: string,
    route: string,
    options: { key?: string; body?: unknown } = {},
  ): Promise<Reply> {
    const res = await fetch(`${origin}${route}`, {
      method,
      headers: {
        ...(options.key ? { authorization: `Bearer ${options.key}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      signal: deadline(),
    });
    const memory = res.headers.get('x-memory-usage');
    for (const listener of listeners) listener(memory);
    const text = await res.text();
    let body: Record<string, unknown> | undefined;
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, body, memory, retryAfter: res.headers.get('retry-after') };
  }
  /**
   * `call`, waiting out 429s as `Retry-After` asks (at most 30 times): for
   * set-up work (seeding users, issuing keys), whose refusal by the rate
   * limiter is not what a run measures.
   */
  async function patientCall(
    method: string,
    route: string,
    options: { key?: string; body?: unknown } = {},
  ): Promise<Reply> {
    for (let attempt = 1; ; attempt++) {
      const reply = await call(method, route, options);
      if (reply.status !== 429 || attempt >= 30 || signal.aborted) return reply;
      await abortableSleep(retryAfterMs(reply), signal);
    }
  }
  return {
    call,
    patientCall,
    signal,
    onMemory(listener: (header: string | null) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** RSS, budget and CPU from `/metrics`, with `X-Memory-Usage` filling what it lacks. */
    async snapshot(): Promise<TargetSnapshot> {
      let snap: TargetSnapshot = { rssMb: null, budgetMb: null, cpuSecondsTotal: null };
      let header: string | null = null;
      try {
        const res = await fetch(`${origin}/metrics`, { signal: deadline() });
        header = res.headers.get('x-memory-usage');
        const text = await res.text();
        if (res.ok) snap = snapshotFromMetrics(text);
      } catch {
        // no metrics: the header of a health check may still say something
      }
      if (!header) {
        header = await call('GET', '/healthz').then(
          (r) => r.memory,
          () => null,
        );
      }
      const m = parseMemoryHeader(header);
      return {
        rssMb: snap.rssMb ?? m?.rssMb ?? null,
        budgetMb: snap.budgetMb ?? m?.budgetMb ?? null,
        cpuSecondsTotal: snap.cpuSecondsTotal,
      };
    },
  };
}

export type TargetClient = ReturnType<typeof createTargetClient>;

/** The error code of a failed answer (`{error: {code}}`), else `http_<status>`. */
export function replyError(reply: Reply): string {
  const error = reply.body?.error as { code?: unknown } | undefined;
  return typeof error?.code === 'string' ? error.code : `http_${reply.status}`;
}

/** Waits `ms`, or less when `signal` aborts; never rejects. */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/** How long a 429 asks to wait (its `Retry-After` seconds), 1 s when it does not say. */
function retryAfterMs(reply: Reply): number {
  const seconds = Number(reply.retryAfter);
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 60) * 1000 : 1000;
}
