import { z } from 'zod';
import { hash32, hashingVector, tokenize } from '../../infra/local/hashing-embedder.ts';

/*
 * Wire shapes of the Gemini REST subset the emulator serves, as
 * `@google/genai` 3.x sends them to the Gemini Developer API:
 *   POST /{v1|v1beta}/models/{model}:generateContent
 *     {contents: [{role: 'user', parts: [{text}]}], systemInstruction?: {role, parts},
 *      generationConfig?: {temperature?, responseMimeType?, ...}}
 *     -> {candidates: [{content: {role: 'model', parts: [{text}]}, finishReason, index}],
 *         usageMetadata, modelVersion, responseId}
 *   POST /{v}/models/{model}:batchEmbedContents   (what `models.embedContent` calls)
 *     {requests: [{model: 'models/{model}', content: {role, parts: [{text}]}, outputDimensionality?}]}
 *     -> {embeddings: [{values: number[]}]}
 *   POST /{v}/models/{model}:embedContent         (plain REST callers)
 *     {content: {parts: [{text}]}, outputDimensionality?} -> {embedding: {values: number[]}}
 * Errors: {error: {code, message, status, details?}} with a JSON content type.
 */

/** The largest `batchEmbedContents` request Gemini accepts. */
export const MAX_EMBED_BATCH = 100;
export const DEFAULT_EMBEDDING_DIMENSION = 768;
const MAX_EMBEDDING_DIMENSION = 4096;

const part = z.looseObject({ text: z.string().optional(), thought: z.boolean().optional() });
const content = z.looseObject({ role: z.string().optional(), parts: z.array(part).min(1) });
const generateBody = z.looseObject({
  contents: z
    .array(content, { error: 'contents is not specified' })
    .min(1, 'contents is not specified'),
  systemInstruction: content.optional(),
  generationConfig: z
    .looseObject({
      temperature: z.number().min(0).max(2).optional(),
      responseMimeType: z.string().optional(),
    })
    .optional(),
});
const embedBody = z.looseObject({
  model: z.string().optional(),
  content,
  outputDimensionality: z.number().int().min(1).max(MAX_EMBEDDING_DIMENSION).optional(),
  taskType: z.string().optional(),
  title: z.string().optional(),
});
const batchBody = z.looseObject({
  requests: z
    .array(embedBody, { error: 'requests is not specified' })
    .min(1, 'requests is not specified')
    .max(MAX_EMBED_BATCH, `at most ${MAX_EMBED_BATCH} requests can be in one batch`),
});

type WireContent = z.infer<typeof content>;
type EmbedBody = z.infer<typeof embedBody>;

const rpcStatus: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

/** A failure answered with Google's error body and this HTTP status. */
export class WireError extends Error {
  readonly code: number;
  readonly details: unknown[] | undefined;
  constructor(code: number, message: string, details?: unknown[]) {
    super(message);
    this.name = 'WireError';
    this.code = code;
    this.details = details;
  }

  /** `{error: {code, message, status, details?}}`, as Google APIs answer. */
  toBody(): { error: Record<string, unknown> } {
    return {
      error: {
        code: this.code,
        message: this.message,
        status: rpcStatus[this.code] ?? 'UNKNOWN',
        ...(this.details ? { details: this.details } : {}),
      },
    };
  }
}

/** Gemini's quota error: RetryInfo in the body, as the real API sends it. */
export function rateLimitedError(retryAfterSeconds: number): WireError {
  return new WireError(
    429,
    'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
    [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${retryAfterSeconds}s` }],
  );
}

export function internalError(): WireError {
  return new WireError(
    500,
    'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  );
}

function parse<T>(schema: z.ZodType<T>, body: unknown, request: string): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const lines = result.error.issues.map(
    (issue) => `* ${[request, ...issue.path.map(String)].join('.')}: ${issue.message}`,
  );
  throw new WireError(400, lines.join('\n'));
}

function textOf(value: WireContent | undefined): string {
  return (value?.parts ?? [])
    .filter((p) => !p.thought && typeof p.text === 'string')
    .map((p) => p.text)
    .join('');
}

/** What a custom responder sees of one `generateContent` call. */
export interface EmulatorGenerateRequest {
  /** Model name without the `models/` prefix. */
  model: string;
  apiVersion: string;
  /** Text of the user turns, joined by blank lines. */
  prompt: string;
  /** Text of `systemInstruction`, if any. */
  system: string | undefined;
  /** True when `generationConfig.responseMimeType` is `application/json`. */
  json: boolean;
  temperature: number | undefined;
  /** The parsed request body, for responders that need more. */
  body: Record<string, unknown>;
}

/** Validates a `generateContent` body into what responders see. */
export function parseGenerateRequest(
  model: string,
  apiVersion: string,
  raw: unknown,
): EmulatorGenerateRequest {
  const body = parse(generateBody, raw, 'GenerateContentRequest');
  const prompt = body.contents
    .filter((c) => c.role === undefined || c.role === 'user')
    .map(textOf)
    .join('\n\n');
  return {
    model,
    apiVersion,
    prompt,
    system: body.systemInstruction ? textOf(body.systemInstruction) : undefined,
    json: body.generationConfig?.responseMimeType === 'application/json',
    temperature: body.generationConfig?.temperature,
    body,
  };
}

function digest(text: string): string {
  return hash32(text).toString(16).padStart(8, '0');
}

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/**
 * A deterministic answer derived from the prompt: text naming the model and
 * the prompt, or in JSON mode an object with its digest and keywords. What
 * the emulator answers to prompts that are not the product's own.
 */
export function echoAnswer(request: EmulatorGenerateRequest): string {
  const summary = clip(request.prompt, 240);
  if (!request.json) return `Emulated answer from ${request.model}: ${summary}`;
  const keywords = [...new Set(tokenize(request.prompt).filter((w) => w.length >= 4))].slice(0, 8);
  return JSON.stringify({
    emulated: true,
    model: request.model,
    digest: digest(`${request.system ?? ''}\n${request.prompt}`),
    summary,
    keywords,
  });
}

const approxTokens = (text: string) => Math.ceil(text.length / 4);

/** A successful `GenerateContentResponse` carrying `text`. */
export function generateResponse(request: EmulatorGenerateRequest, text: string, sequence: number) {
  const promptTokenCount = approxTokens(`${request.system ?? ''}${request.prompt}`);
  const candidatesTokenCount = approxTokens(text);
  return {
    candidates: [{ content: { role: 'model', parts: [{ text }] }, finishReason: 'STOP', index: 0 }],
    usageMetadata: {
      promptTokenCount,
      candidatesTokenCount,
      totalTokenCount: promptTokenCount + candidatesTokenCount,
    },
    modelVersion: request.model,
    responseId: `emu-${digest(request.prompt)}-${sequence}`,
  };
}

function embedOne(
  model: string,
  request: EmbedBody,
  defaultDimension: number,
): { values: number[] } {
  const dimension = request.outputDimensionality ?? defaultDimension;
  // Seeding by model gives each model its own space, like real models.
  return { values: hashingVector(textOf(request.content), dimension, hash32(model)) };
}

/** Answers `:embedContent` (one text). */
export function embedContentResponse(model: string, raw: unknown, defaultDimension: number) {
  const body = parse(embedBody, raw, 'EmbedContentRequest');
  return { embedding: embedOne(model, body, defaultDimension) };
}

/** Answers `:batchEmbedContents`; `texts` is how many were embedded, for stats. */
export function batchEmbedContentsResponse(
  model: string,
  resource: string,
  raw: unknown,
  defaultDimension: number,
) {
  const body = parse(batchBody, raw, 'BatchEmbedContentsRequest');
  body.requests.forEach((r, i) => {
    if (r.model !== undefined && r.model !== resource) {
      throw new WireError(
        400,
        `* BatchEmbedContentsRequest.requests[${i}].model: must match the batch model ${resource}`,
      );
    }
  });
  return {
    texts: body.requests.length,
    payload: { embeddings: body.requests.map((r) => embedOne(model, r, defaultDimension)) },
  };
}
