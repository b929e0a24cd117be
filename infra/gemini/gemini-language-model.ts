import { performance } from 'node:perf_hooks';
import { AppError } from '../../core/errors.ts';
import type {
  GenerateInput,
  GenerateResult,
  LanguageModel,
} from '../../core/ports/language-model.ts';
import {
  assertPositiveInt,
  createCallRunner,
  createGenAiClient,
  type GeminiConnectionOptions,
} from './gemini-client.ts';

/** Options of {@link createGeminiLanguageModel}. */
export interface GeminiLanguageModelOptions extends GeminiConnectionOptions {
  /** Model name, such as `gemini-2.5-flash`. */
  model: string;
  /** Default deadline per call; `GenerateInput.timeoutMs` overrides it. */
  timeoutMs: number;
}

/** The `LanguageModel` port over Gemini, plus `close()`. */
export interface GeminiLanguageModel extends LanguageModel {
  /** Cancels calls in flight; later calls fail with `dependency_unavailable`. */
  close(): Promise<void>;
}

/**
 * Creates the Gemini language model adapter over the real `@google/genai`
 * client. Provider trouble surfaces as `AppError`: `rate_limited`, `timeout`,
 * `dependency_unavailable` (5xx, network, empty answers) or `bad_request`.
 * The SDK's own retries stay off: callers decide whether to retry or fall back.
 */
export async function createGeminiLanguageModel(
  options: GeminiLanguageModelOptions,
): Promise<GeminiLanguageModel> {
  assertPositiveInt('timeoutMs', options.timeoutMs);
  if (!options.model) throw new RangeError('model is required');
  const { model } = options;
  const ai = createGenAiClient(options);
  const runner = createCallRunner(model);

  async function generate(input: GenerateInput): Promise<GenerateResult> {
    const timeoutMs = input.timeoutMs ?? options.timeoutMs;
    assertPositiveInt('timeoutMs', timeoutMs);
    const started = performance.now();
    const response = await runner.run('generateContent', timeoutMs, (abortSignal) =>
      ai.models.generateContent({
        model,
        contents: input.prompt,
        config: {
          abortSignal,
          ...(input.system === undefined ? {} : { systemInstruction: input.system }),
          ...(input.temperature === undefined ? {} : { temperature: input.temperature }),
          ...(input.json ? { responseMimeType: 'application/json' } : {}),
        },
      }),
    );
    const text = response.text;
    if (text === undefined) {
      const blockReason = response.promptFeedback?.blockReason;
      const finishReason = response.candidates?.[0]?.finishReason;
      const details = {
        provider: 'gemini',
        model,
        operation: 'generateContent',
        blockReason,
        finishReason,
      };
      // A blocked prompt will be blocked again; anything else may be a passing glitch.
      if (blockReason) {
        throw new AppError('bad_request', `Gemini blocked the prompt (${blockReason})`, {
          details,
        });
      }
      throw new AppError(
        'dependency_unavailable',
        `Gemini returned no text (finish reason ${finishReason ?? 'unknown'})`,
        { details },
      );
    }
    return {
      text,
      model: response.modelVersion ?? model,
      latencyMs: Math.round((performance.now() - started) * 10) / 10,
    };
  }

  return {
    id: `gemini:${model}`,
    generate,
    close() {
      runner.close();
      return Promise.resolve();
    },
  };
}
