import { seededRandom } from '../../core/util/seeded-random.ts';
import {
  checkBehaviour,
  NO_FAILURES,
  type FailureSpec,
  type LatencySpec,
  type MethodBehaviour,
} from './emulator-behaviour.ts';
import { DEFAULT_EMBEDDING_DIMENSION, type EmulatorGenerateRequest } from './emulator-protocol.ts';

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

const DEFAULT_SEED = 1;

/** One method's behaviour now, with its own seeded stream for latency and failure draws. */
export interface MethodState {
  latency: LatencySpec | undefined;
  failures: Required<FailureSpec>;
  random: () => number;
}

/** What a running emulator does now; `configure()` changes it. */
export class EmulatorSettings {
  apiKey: string | undefined;
  defaultDimension = DEFAULT_EMBEDDING_DIMENSION;
  responder: EmulatorResponder | undefined;
  readonly methods: Record<EmulatorMethod, MethodState>;

  constructor() {
    this.methods = Object.fromEntries(
      EMULATOR_METHODS.map((m, i) => [
        m,
        { latency: undefined, failures: NO_FAILURES, random: seededRandom(DEFAULT_SEED + i) },
      ]),
    ) as Record<EmulatorMethod, MethodState>;
  }

  /** Validates everything first, so a bad setting changes nothing. */
  configure(settings: GeminiEmulatorSettings): void {
    if (settings.seed !== undefined && !Number.isInteger(settings.seed)) {
      throw new RangeError('seed must be an integer');
    }
    const d = settings.defaultDimension;
    if (d !== undefined && (!Number.isInteger(d) || d < 1 || d > 4096)) {
      throw new RangeError('defaultDimension must be a whole number in 1..4096');
    }
    const { all, ...named } = settings.methods ?? {};
    const updates = EMULATOR_METHODS.flatMap((method) =>
      [all, named[method]].map((patch) => ({ method, ...checkBehaviour(patch) })),
    );

    const seed = settings.seed;
    if (seed !== undefined) {
      EMULATOR_METHODS.forEach((m, i) => (this.methods[m].random = seededRandom(seed + i)));
    }
    if (d !== undefined) this.defaultDimension = d;
    if (settings.apiKey !== undefined) this.apiKey = settings.apiKey ?? undefined;
    if (settings.responder !== undefined) this.responder = settings.responder ?? undefined;
    for (const { method, latency, failures } of updates) {
      if (latency !== undefined) this.methods[method].latency = latency ?? undefined;
      if (failures !== undefined) this.methods[method].failures = failures;
    }
  }
}
