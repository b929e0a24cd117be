import { MemoryEngineError } from './errors.ts';

/**
 * One call's lifetime: its deadline (`timeoutMs`, every attempt and wait
 * included) and the caller's `AbortSignal`, joined in one signal that
 * requests and retry waits listen to.
 */
export interface CallScope {
  readonly signal: AbortSignal;
  /** Milliseconds left before the deadline. */
  remainingMs(): number;
  /** Waits `ms`, or rejects with {@link CallScope.stopped}'s error when the call ends first. */
  sleep(ms: number): Promise<void>;
  /** The timeout or abort error when the call has ended, else null. */
  stopped(attempts: number, cause?: unknown): MemoryEngineError | null;
  dispose(): void;
}

export function createCallScope(
  timeoutMs: number,
  callerSignal: AbortSignal | undefined,
  requestId: string,
): CallScope {
  const controller = new AbortController();
  const deadline = Date.now() + timeoutMs;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timed out after ${timeoutMs} ms`));
  }, timeoutMs);
  const onAbort = () => controller.abort(callerSignal?.reason);
  if (callerSignal?.aborted) onAbort();
  else callerSignal?.addEventListener('abort', onAbort, { once: true });

  const stopped = (attempts: number, cause?: unknown): MemoryEngineError | null => {
    if (!controller.signal.aborted) return null;
    const aborted = !timedOut;
    return new MemoryEngineError({
      code: aborted ? 'aborted' : 'client_timeout',
      message: aborted
        ? 'the call was aborted by its caller'
        : `no answer within the client's timeout of ${timeoutMs} ms`,
      status: null,
      requestId,
      attempts,
      cause: aborted ? (callerSignal?.reason ?? cause) : cause,
    });
  };

  return {
    signal: controller.signal,
    remainingMs: () => deadline - Date.now(),
    stopped,
    sleep(ms) {
      return new Promise((resolve, reject) => {
        const signal = controller.signal;
        if (signal.aborted) return reject(new Error('stopped'));
        const wake = setTimeout(() => {
          signal.removeEventListener('abort', stop);
          resolve();
        }, ms);
        const stop = () => {
          clearTimeout(wake);
          reject(new Error('stopped'));
        };
        signal.addEventListener('abort', stop, { once: true });
      });
    },
    dispose() {
      clearTimeout(timer);
      callerSignal?.removeEventListener('abort', onAbort);
    },
  };
}
