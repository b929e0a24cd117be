import { setMaxListeners } from 'node:events';
import { GoogleGenAI } from '@google/genai';
import { AppError } from '../../core/errors.ts';
import { toGeminiAppError } from './gemini-errors.ts';

/** Connection settings shared by the Gemini adapters. */
export interface GeminiConnectionOptions {
  /** Google AI Studio key; optional when `baseUrl` points at the emulator. */
  apiKey?: string | undefined;
  /** A Gemini-compatible endpoint, such as the emulator's URL. */
  baseUrl?: string | undefined;
  /**
   * REST API version. SDK 3.x defaults to `v1`; we pin `v1beta`, where JSON
   * mode and `outputDimensionality` have always been available.
   */
  apiVersion?: string;
}

/** Sent when only a base URL is configured, so the SDK neither warns nor reads keys from the environment. */
const PLACEHOLDER_API_KEY = 'emulator-no-key';

/** Builds the SDK client for the Gemini Developer API (never Vertex, whatever the environment says). */
export function createGenAiClient(options: GeminiConnectionOptions): GoogleGenAI {
  if (!options.apiKey && !options.baseUrl) {
    throw new AppError(
      'dependency_unavailable',
      'Gemini is not configured: set GEMINI_API_KEY, or GEMINI_BASE_URL for the emulator',
    );
  }
  return new GoogleGenAI({
    vertexai: false,
    apiKey: options.apiKey || PLACEHOLDER_API_KEY,
    apiVersion: options.apiVersion ?? 'v1beta',
    ...(options.baseUrl ? { httpOptions: { baseUrl: options.baseUrl } } : {}),
  });
}

/** Throws a `RangeError` unless `value` is a positive whole number. */
export function assertPositiveInt(
  name: string,
  value: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new RangeError(`${name} must be a whole number in 1..${max} (got ${value})`);
  }
}

/**
 * Runs SDK calls under a per-call deadline and a shared "closed" switch, and
 * turns every failure into an `AppError`.
 */
export interface GeminiCallRunner {
  run<T>(
    operation: string,
    timeoutMs: number,
    call: (signal: AbortSignal) => Promise<T>,
  ): Promise<T>;
  /** Aborts calls in flight; later calls fail with `dependency_unavailable`. */
  close(): void;
}

/** Creates the runner one adapter uses for all its calls to `model`. */
export function createCallRunner(model: string): GeminiCallRunner {
  const closed = new AbortController();
  // Every call in flight listens on it until it ends (removed in `finally`), and dozens run
  // at once under load: past Node's default of 10 it warned of a leak that is not one.
  setMaxListeners(0, closed.signal);
  return {
    async run(operation, timeoutMs, call) {
      if (closed.signal.aborted) {
        throw toGeminiAppError(new Error('client closed'), { operation, model, closed: true });
      }
      // One controller per call (rather than AbortSignal.any) so no listener
      // outlives the call on the long-lived "closed" signal.
      const controller = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        controller.abort();
      }, timeoutMs);
      timer.unref();
      const onClose = () => controller.abort();
      closed.signal.addEventListener('abort', onClose, { once: true });
      try {
        return await call(controller.signal);
      } catch (error) {
        throw toGeminiAppError(error, {
          operation,
          model,
          timeoutMs,
          timedOut,
          closed: !timedOut && closed.signal.aborted,
        });
      } finally {
        clearTimeout(timer);
        closed.signal.removeEventListener('abort', onClose);
      }
    },
    close() {
      closed.abort();
    },
  };
}
