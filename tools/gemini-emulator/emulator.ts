import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { drawFault, sampleLatency } from './emulator-behaviour.ts';
import { holdUntilGone, readJson, send, waitUnlessGone } from './emulator-http.ts';
import {
  WireError,
  batchEmbedContentsResponse,
  embedContentResponse,
  generateResponse,
  internalError,
  parseGenerateRequest,
  rateLimitedError,
} from './emulator-protocol.ts';
import {
  EmulatorSettings,
  type EmulatorMethod,
  type GeminiEmulatorSettings,
} from './emulator-settings.ts';

export type { EmulatorGenerateRequest } from './emulator-protocol.ts';
export type { FailureSpec, LatencySpec, MethodBehaviour } from './emulator-behaviour.ts';
export { productAnswer, recognisePrompt } from './emulator-answers.ts';
export { echoAnswer } from './emulator-protocol.ts';
export {
  BUILT_IN_ANSWERS,
  EMULATOR_METHODS,
  type BuiltInAnswers,
  type EmulatorMethod,
  type EmulatorResponder,
  type GeminiEmulatorSettings,
} from './emulator-settings.ts';

export interface GeminiEmulatorOptions extends GeminiEmulatorSettings {
  /** 0 picks a free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Per-call debug logs and responder failures go here when given. */
  logger?: Logger;
}

/** Counters of one method since start or the last `resetStats()`. */
export interface EmulatorMethodStats {
  calls: number;
  succeeded: number;
  rateLimited: number;
  serverErrors: number;
  timeouts: number;
  /** 4xx answers: bad key, bad body, unknown path. */
  rejected: number;
  /** Texts embedded or prompts answered. */
  items: number;
  inFlight: number;
  peakInFlight: number;
}

export type EmulatorStats = Record<EmulatorMethod, EmulatorMethodStats>;

/** A running emulator. */
export interface GeminiEmulator {
  /** Base URL for `httpOptions.baseUrl`, such as `http://127.0.0.1:8765`. */
  readonly url: string;
  readonly port: number;
  configure(settings: GeminiEmulatorSettings): void;
  stats(): EmulatorStats;
  resetStats(): void;
  /** Stops listening and drops every connection, held ones included. */
  close(): Promise<void>;
}

const ROUTE =
  /^\/(v1|v1beta|v1alpha)\/((?:models|tunedModels)\/([^/:]+)):(generateContent|embedContent|batchEmbedContents)$/;

function emptyStats(): EmulatorStats {
  const one = (): EmulatorMethodStats => ({
    calls: 0,
    succeeded: 0,
    rateLimited: 0,
    serverErrors: 0,
    timeouts: 0,
    rejected: 0,
    items: 0,
    inFlight: 0,
    peakInFlight: 0,
  });
  return { generateContent: one(), embedContent: one(), batchEmbedContents: one() };
}

/**
 * Starts a local server speaking the Gemini REST subset we use (see
 * `emulator-protocol.ts`) under `/v1/` and `/v1beta/`, with deterministic
 * answers, seeded latency and failure injection per method, and counters.
 */
export async function startGeminiEmulator(
  options: GeminiEmulatorOptions = {},
): Promise<GeminiEmulator> {
  const logger = options.logger;
  const settings = new EmulatorSettings();
  let counters = emptyStats();
  let sequence = 0;

  async function answer(
    method: EmulatorMethod,
    model: string,
    resource: string,
    apiVersion: string,
    body: unknown,
  ): Promise<{ payload: unknown; items: number }> {
    if (method === 'embedContent') {
      return { payload: embedContentResponse(model, body, settings.defaultDimension), items: 1 };
    }
    if (method === 'batchEmbedContents') {
      const { texts, payload } = batchEmbedContentsResponse(
        model,
        resource,
        body,
        settings.defaultDimension,
      );
      return { payload, items: texts };
    }
    const request = parseGenerateRequest(model, apiVersion, body);
    let text: string;
    try {
      text = await settings.responder(request);
    } catch (error) {
      logger?.error({ err: error, model }, 'gemini emulator responder failed');
      throw new WireError(500, `emulator responder failed: ${(error as Error).message}`);
    }
    if (typeof text !== 'string') throw new WireError(500, 'emulator responder returned no string');
    return { payload: generateResponse(request, text, ++sequence), items: 1 };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://emulator.invalid');
    if (req.method === 'GET' && url.pathname === '/healthz')
      return send(res, 200, { status: 'ok' });
    const route = ROUTE.exec(url.pathname);
    if (!route || req.method !== 'POST') {
      const error = new WireError(
        404,
        `${req.method} ${url.pathname} is not served by the emulator`,
      );
      return send(res, 404, error.toBody());
    }
    const [, apiVersion = '', resource = '', model = '', name = ''] = route;
    const method = name as EmulatorMethod;
    const state = settings.methods[method];
    // Bound once: a call in flight across resetStats() keeps counting in the
    // old counters, so the new ones never go negative.
    const stats = counters[method];
    stats.calls++;
    stats.inFlight++;
    stats.peakInFlight = Math.max(stats.peakInFlight, stats.inFlight);
    const started = performance.now();
    let outcome = 'ok';
    try {
      const header = req.headers['x-goog-api-key'];
      const key = (Array.isArray(header) ? header[0] : header) ?? url.searchParams.get('key');
      const { apiKey } = settings;
      if (apiKey !== undefined && !key) {
        throw new WireError(
          403,
          "Method doesn't allow unregistered callers. Please use an API key.",
        );
      }
      if (apiKey !== undefined && key !== apiKey) {
        throw new WireError(400, 'API key not valid. Please pass a valid API key.', [
          { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID' },
        ]);
      }
      const body = await readJson(req);
      const fault = drawFault(state.failures, state.random);
      const delayMs = sampleLatency(state.latency, state.random);
      if (fault === 'timeout') {
        outcome = 'held';
        stats.timeouts++;
        await holdUntilGone(res);
        return;
      }
      if (!(await waitUnlessGone(delayMs, res))) {
        outcome = 'client gone';
        return;
      }
      if (fault === 'rate_limited') {
        stats.rateLimited++;
        const seconds = state.failures.retryAfterSeconds;
        const error = rateLimitedError(seconds);
        outcome = '429';
        return send(res, 429, error.toBody(), { 'retry-after': String(Math.ceil(seconds)) });
      }
      if (fault === 'server_error') {
        stats.serverErrors++;
        outcome = '500';
        return send(res, 500, internalError().toBody());
      }
      const { payload, items } = await answer(method, model, resource, apiVersion, body);
      stats.succeeded++;
      stats.items += items;
      send(res, 200, payload);
    } catch (error) {
      if (res.destroyed) {
        outcome = 'client gone';
        return;
      }
      const wire = error instanceof WireError ? error : new WireError(500, String(error));
      if (wire.code >= 500) stats.serverErrors++;
      else stats.rejected++;
      outcome = String(wire.code);
      send(res, wire.code, wire.toBody());
    } finally {
      stats.inFlight--;
      logger?.debug(
        { method, model, outcome, ms: Math.round(performance.now() - started) },
        'gemini emulator call',
      );
    }
  }

  settings.configure(options);
  const server = http.createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      logger?.error({ err: error }, 'gemini emulator handler failed');
      send(res, 500, internalError().toBody());
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost =
    host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    configure: (changes) => settings.configure(changes),
    stats: () => structuredClone(counters),
    resetStats() {
      counters = emptyStats();
    },
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
