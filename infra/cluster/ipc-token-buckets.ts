// infra/cluster/: what processes started by one parent (`PROCESSES=api,worker`)
// share over their IPC channel with it. Here: the per-user rate limit and the
// model planning bucket, held once in the parent so that N API processes
// enforce one limit without Redis.
import {
  createKeyedTokenBuckets,
  createTokenBucket,
  type RateDecision,
  type RateLimiter,
  type RatePolicy,
  type WaitingTokenBucket,
} from '../../core/concurrency/token-bucket.ts';

const REQUEST = 'memengine:bucket-take';
const REPLY = 'memengine:bucket-reply';

/** One token from a user's bucket, or from the planning bucket (waiting up to `maxWaitMs`). */
type TakeRequest =
  | { type: typeof REQUEST; id: number; bucket: 'user'; key: string }
  | { type: typeof REQUEST; id: number; bucket: 'planning'; maxWaitMs: number };

type TakeReply =
  | { type: typeof REPLY; id: number; bucket: 'user'; decision: RateDecision }
  | { type: typeof REPLY; id: number; bucket: 'planning'; granted: boolean };

type Listener = (message: unknown) => void;

/**
 * One end of an IPC channel: a child seen from its parent (`ChildProcess`,
 * a cluster `Worker`) or the parent seen from a child (`process`).
 */
export interface IpcPeer {
  send(message: TakeRequest | TakeReply, callback: (error: Error | null) => void): boolean;
  on(event: 'message', listener: Listener): unknown;
  off(event: 'message', listener: Listener): unknown;
}

/** The buckets' sizes: the per-user policy and the planning bucket's. */
export interface SharedBucketPolicies {
  user: RatePolicy;
  planning: RatePolicy;
}

/** A planning wait the parent grants at most, whatever a child asks. */
const MAX_PLANNING_WAIT_MS = 60_000;

function isRequest(message: unknown): message is TakeRequest {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === REQUEST
  );
}

function isReply(message: unknown): message is TakeReply {
  return (
    typeof message === 'object' &&
    message !== null &&
    (message as { type?: unknown }).type === REPLY
  );
}

/**
 * The parent's side: the buckets themselves, and `serve(peer)` to answer one
 * child's requests from them until `detach()` (call it when the child exits).
 */
export function createTokenBucketServer(
  policies: SharedBucketPolicies,
  options: { maxKeys?: number } = {},
) {
  const users = createKeyedTokenBuckets(policies.user, {
    ...(options.maxKeys ? { maxKeys: options.maxKeys } : {}),
  });
  const planning = createTokenBucket({
    capacity: policies.planning.burst,
    refillPerSecond: policies.planning.perSecond,
  });
  const answer = async (request: TakeRequest): Promise<TakeReply> => {
    if (request.bucket === 'user') {
      return { type: REPLY, id: request.id, bucket: 'user', decision: users.take(request.key) };
    }
    const waitMs = Math.min(Math.max(0, request.maxWaitMs), MAX_PLANNING_WAIT_MS);
    return {
      type: REPLY,
      id: request.id,
      bucket: 'planning',
      granted: await planning.take(waitMs),
    };
  };
  return {
    serve(peer: IpcPeer): () => void {
      const listener: Listener = (message) => {
        if (!isRequest(message)) return;
        void answer(message).then((reply) => {
          try {
            // A child that has gone cannot be answered; its client has timed out already.
            peer.send(reply, () => undefined);
          } catch {
            // The channel closed meanwhile.
          }
        });
      };
      peer.on('message', listener);
      return () => peer.off('message', listener);
    },
    /** Users with a bucket in the parent. */
    get size(): number {
      return users.size;
    },
  };
}

export type TokenBucketServer = ReturnType<typeof createTokenBucketServer>;

export interface TokenBucketClientOptions {
  /** The parent, as this process sees it (`process`). */
  peer: IpcPeer;
  /** The same policies the parent holds: the local fallback buckets are sized by them. */
  policies: SharedBucketPolicies;
  /** How long a user check waits for the parent before a local bucket decides (default 200 ms). */
  timeoutMs?: number;
  /** Requests awaiting an answer at most; beyond, local buckets decide at once (default 10 000). */
  maxPending?: number;
  /** Told once each time the parent stops answering in time (not again until it answers). */
  onFallback?: (error: Error) => void;
}

/** A child's limiter over its parent's buckets. */
export interface TokenBucketClient {
  /** Users' rate limit (`RateLimiter` for `rateLimitedAuthenticator`). */
  users: RateLimiter & { fallbacks(): number };
  /** The model planning bucket (`EngineSettings.model.bucket`). */
  planning: WaitingTokenBucket & { fallbacks(): number };
  /** Stops listening; later takes are decided locally. */
  close(): void;
}

interface Pending {
  resolve: (reply: TakeReply | null) => void;
  timer: NodeJS.Timeout;
}

/**
 * The child's side: every take is one request to the parent, with an id; an
 * answer that does not come within the timeout (parent busy or gone, channel
 * closed) is replaced by a local bucket's decision, so a limiter problem
 * never fails or stalls the request it guards. At most `maxPending` requests
 * wait at once; late answers are dropped.
 */
export function createTokenBucketClient(options: TokenBucketClientOptions): TokenBucketClient {
  const { peer, policies } = options;
  const timeoutMs = options.timeoutMs ?? 200;
  const maxPending = options.maxPending ?? 10_000;
  const localUsers = createKeyedTokenBuckets(policies.user);
  const localPlanning = createTokenBucket({
    capacity: policies.planning.burst,
    refillPerSecond: policies.planning.perSecond,
  });
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let closed = false;
  let failing = false;
  let userFallbacks = 0;
  let planningFallbacks = 0;

  const failed = (error: Error) => {
    if (failing) return;
    failing = true;
    options.onFallback?.(error);
  };
  const listener: Listener = (message) => {
    if (!isReply(message)) return;
    const waiting = pending.get(message.id);
    if (!waiting) return; // timed out already
    pending.delete(message.id);
    clearTimeout(waiting.timer);
    failing = false;
    waiting.resolve(message);
  };
  peer.on('message', listener);

  // Resolves with the parent's reply, or null when a local bucket must decide.
  const ask = (request: TakeRequest, waitMs: number): Promise<TakeReply | null> => {
    if (closed) return Promise.resolve(null);
    if (pending.size >= maxPending) {
      failed(new Error(`${maxPending} limiter requests already await the parent`));
      return Promise.resolve(null);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        pending.delete(request.id);
        failed(new Error(`the parent process did not answer within ${waitMs} ms`));
        resolve(null);
      }, waitMs);
      pending.set(request.id, { resolve, timer });
      const gone = (error: Error | null) => {
        if (!error || !pending.has(request.id)) return;
        pending.delete(request.id);
        clearTimeout(timer);
        failed(error);
        resolve(null);
      };
      try {
        peer.send(request, gone);
      } catch (error) {
        gone(error instanceof Error ? error : new Error(String(error)));
      }
    });
  };

  return {
    users: {
      policy: policies.user,
      async take(key) {
        const reply = await ask({ type: REQUEST, id: nextId++, bucket: 'user', key }, timeoutMs);
        if (reply?.bucket === 'user') return reply.decision;
        userFallbacks++;
        return localUsers.take(key);
      },
      fallbacks: () => userFallbacks,
    },
    planning: {
      async take(maxWaitMs) {
        const request = { type: REQUEST, id: nextId++, bucket: 'planning', maxWaitMs } as const;
        const reply = await ask(request, maxWaitMs + timeoutMs);
        if (reply?.bucket === 'planning') return reply.granted;
        planningFallbacks++;
        return localPlanning.tryTake();
      },
      fallbacks: () => planningFallbacks,
    },
    close() {
      if (closed) return;
      closed = true;
      peer.off('message', listener);
      for (const [id, waiting] of pending) {
        pending.delete(id);
        clearTimeout(waiting.timer);
        waiting.resolve(null);
      }
    },
  };
}

/** This process's parent as an `IpcPeer`; null when it was not started with an IPC channel. */
export function parentPeer(): IpcPeer | null {
  const send = process.send?.bind(process);
  if (!send) return null;
  return {
    send: (message, callback) => send(message, undefined, undefined, callback),
    on: (event, listener) => process.on(event, listener),
    off: (event, listener) => process.off(event, listener),
  };
}
