import { seededRandom } from '../../core/util/seeded-random.ts';
import {
  checkBehaviour,
  NO_FAILURES,
  type FailureSpec,
  type LatencySpec,
  type MethodBehaviour,
} from './emulator-behaviour.ts';
import { productAnswer } from './emulator-answers.ts';
import {
  DEFAULT_EMBEDDING_DIMENSION,
  echoAnswer,
  type EmulatorGenerateRequest,
} from './emulator-protocol.ts';

export const EMULATOR_METHODS = ['generateContent', 'embedContent', 'batchEmbedContents'] as const;
/** A Gemini REST method the emulator serves. */
export type EmulatorMethod = (typeof EMULATOR_METHODS)[number];

/** Scripts `generateContent` answers (text, or JSON text in JSON mode; passed through as is). */
export type EmulatorResponder = (request: EmulatorGenerateRequest) => string | Promise<string>;

/**
 * The built-in answers by name: `product` (the default) answers the product's
 * planning, extraction and narrative prompts well-formed and echoes anything
 * else; `echo` echoes every prompt (so the product's planner, for one, falls
 * back to its heuristic plan).
 */
export const BUILT_IN_ANSWERS = { product: productAnswer, echo: echoAnswer } as const;
export type BuiltInAnswers = keyof typeof BUILT_IN_ANSWERS;

/** Settings accepted at start and by `configure()`; omitted keys keep their value. */
export interface GeminiEmulatorSettings {
  /** Seeds latency and failure draws (one stream per method); default 1. */
  seed?: number;
  /** When set, requests must carry it (`x-goog-api-key` or `?key=`); `null` accepts any. */
  apiKey?: string | null;
  /** Vector length when a request has no `outputDimensionality`; default 768. */
  defaultDimension?: number;
  /**
   * A function, or the name of built-in answers ({@link BUILT_IN_ANSWERS}); `null`
   * restores the default, `product`.
   */
  responder?: EmulatorResponder | BuiltInAnswers | null;
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
  responder: EmulatorResponder = BUILT_IN_ANSWERS.product;
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
    if (
      typeof settings.responder === 'string' &&
      !Object.hasOwn(BUILT_IN_ANSWERS, settings.responder)
    ) {
      throw new RangeError(
        `responder must be a function or one of ${Object.keys(BUILT_IN_ANSWERS).join(', ')}`,
      );
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
    if (settings.responder !== undefined) this.responder = responderOf(settings.responder);
    for (const { method, latency, failures } of updates) {
      if (latency !== undefined) this.methods[method].latency = latency ?? undefined;
      if (failures !== undefined) this.methods[method].failures = failures;
    }
  }
}

function responderOf(value: EmulatorResponder | BuiltInAnswers | null): EmulatorResponder {
  if (value === null) return BUILT_IN_ANSWERS.product;
  return typeof value === 'string' ? BUILT_IN_ANSWERS[value] : value;
}
