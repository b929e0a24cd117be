/** One request to a text model. */
export interface GenerateInput {
  /** Instructions that frame the task. */
  system?: string;
  /** The user-side prompt. */
  prompt: string;
  /** Ask the model for a JSON object (the caller still validates it). */
  json?: boolean;
  /** Give up after this many milliseconds. */
  timeoutMs?: number;
  /** Sampling temperature; 0 for the most deterministic answer. */
  temperature?: number;
}

export interface GenerateResult {
  text: string;
  /** Model that answered, as the provider names it. */
  model: string;
  latencyMs: number;
}

/**
 * Port for the language model (planning, triage, narratives, entity
 * extraction). Implementations throw `AppError` with code `rate_limited`,
 * `timeout` or `dependency_unavailable` on provider trouble so callers can
 * fall back to their heuristics.
 */
export interface LanguageModel {
  /** A stable name for logs and metrics, such as `gemini:gemini-2.5-flash`. */
  readonly id: string;
  generate(input: GenerateInput): Promise<GenerateResult>;
}
