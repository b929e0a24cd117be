import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { seededRandom } from '../../core/util/seeded-random.ts';
import {
  DEFAULT_EMBEDDING_DIMENSION,
  WireError,
  batchEmbedContentsResponse,
  defaultAnswer,
  embedContentResponse,
  generateResponse,
  internalError,
  parseGenerateRequest,
  rateLimitedError,
  type EmulatorGenerateRequest,
} from './emulator-protocol.ts';

import {
  NO_FAILURES,
  checkFailures,
  checkLatency,
  drawFault,
  sampleLatency,
  type FailureSpec,
  type LatencySpec,
  type MethodBehaviour,
} from './emulator-behaviour.ts';

export type { EmulatorGenerateRequest } from './emulator-protocol.ts';
export type { FailureSpec, LatencySpec, MethodBehaviour } from './emulator-behaviour.ts';

export const EMULATOR_METHODS = ['generateContent', 'embedContent', 'batchEmbedContents'] as const;
/** A Gemini REST method the emulator serves. */
export type EmulatorMethod = (typeof EMULATOR_METHODS)[number];

/** Scripts `generateContent` answers (text, or JSON text in JSON mode; passed through as is). */
export type EmulatorResponder = (request: EmulatorGenerateRequest) => string | Promise<string>;

/** Settings accepted at start and by `configure()`; omitted keys keep their value. */
export interface GeminiEmulatorSettings {
  /** Seeds latency and failure draws (one stream per method); default 1. */
  seed?: number;
  /** When set, requests must carry it (`x-goog-api-key` or `?key=`); `null` accepts any. */
  apiKey?: string | null;
  /** Vector length when a request has no `outputDimensionality`; default 768. */
  defaultDimension?: number;
  /** `null` restores the built-in deterministic answers. */
  responder?: EmulatorResponder | null;
  /** Behaviour per method; `all` applies first, then the named methods. */
  methods?: Partial<Record<EmulatorMethod | 'all', MethodBehaviour>>;
}

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

interface MethodState {
  latency: LatencySpec | undefined;
  failures: Required<FailureSpec>;
  random: () => number;
}

const ROUTE =
  /^\/(v1|v1beta|v1alpha)\/((?:models|tunedModels)\/([^/:]+)):(generateContent|embedContent|batchEmbedContents)$/;
const MAX_BODY_BYTES = 20 * 1024 * 1024;

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

function send(res: http.ServerResponse, status: number, body: unknown, headers = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
  res.end(JSON.stringify(body));
}

/** Resolves once the client gives up or the emulator closes: an injected timeout. */
function holdUntilGone(res: http.ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise((resolve) => res.once('close', () => resolve()));
}

/** Resolves true after `ms`, or false as soon as the connection goes away. */
function waitUnlessGone(ms: number, res: http.ServerResponse): Promise<boolean> {
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

async function readJson(req: http.IncomingMessage): Promise<unknown> {
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

/**
 * Starts a local server speaking the Gemini REST subset we use (see
 * `emulator-protocol.ts`) under `/v1/` and `/v1beta/`, with deterministic
 * answers, seeded latency and failure injection per method, and counters.
 */
export async function startGeminiEmulator(
  options: GeminiEmulatorOptions = {},
): Promise<GeminiEmulator> {
  const logger = options.logger;
  let seed = 1;
  let apiKey: string | undefined;
  let defaultDimension = DEFAULT_EMBEDDING_DIMENSION;
  let responder: EmulatorResponder | undefined;
  let counters = emptyStats();
  let sequence = 0;
  const states = Object.fromEntries(
    EMULATOR_METHODS.map((m, i) => [
      m,
      { latency: undefined, failures: NO_FAILURES, random: seededRandom(seed + i) },
    ]),
  ) as Record<EmulatorMethod, MethodState>;

  /** Validates everything first, so a bad setting changes nothing. */
  function configure(settings: GeminiEmulatorSettings): void {
    if (settings.seed !== undefined && !Number.isInteger(settings.seed)) {
      throw new RangeError('seed must be an integer');
    }
    const d = settings.defaultDimension;
    if (d !== undefined && (!Number.isInteger(d) || d < 1 || d > 4096)) {
      throw new RangeError('defaultDimension must be a whole number in 1..4096');
    }
    const { all, ...named } = settings.methods ?? {};
    const updates = EMULATOR_METHODS.flatMap((method) =>
      [all, named[method]].map((patch) => ({
        method,
        latency:
          patch?.latency === undefined
            ? undefined
            : patch.latency === null
              ? null
              : checkLatency(patch.latency),
        failures:
          patch?.failures === undefined
            ? undefined
            : patch.failures === null
              ? NO_FAILURES
              : checkFailures(patch.failures),
      })),
    );

    if (settings.seed !== undefined) {
      seed = settings.seed;
      EMULATOR_METHODS.forEach((m, i) => (states[m].random = seededRandom(seed + i)));
    }
    if (d !== undefined) defaultDimension = d;
    if (settings.apiKey !== undefined) apiKey = settings.apiKey ?? undefined;
    if (settings.responder !== undefined) responder = settings.responder ?? undefined;
    for (const { method, latency, failures } of updates) {
      if (latency !== undefined) states[method].latency = latency ?? undefined;
      if (failures !== undefined) states[method].failures = failures;
    }
  }

  async function answer(
    method: EmulatorMethod,
    model: string,
    resource: string,
    apiVersion: string,
    body: unknown,
  ): Promise<{ payload: unknown; items: number }> {
    if (method === 'embedContent') {
      return { payload: embedContentResponse(model, body, defaultDimension), items: 1 };
    }
    if (method === 'batchEmbedContents') {
      const { texts, payload } = batchEmbedContentsResponse(
        model,
        resource,
        body,
        defaultDimension,
      );
      return { payload, items: texts };
    }
    const request = parseGenerateRequest(model, apiVersion, body);
    let text: string;
    try {
      text = responder ? await responder(request) : defaultAnswer(request);
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
    const state = states[method];
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

  configure(options);
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
    configure,
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
