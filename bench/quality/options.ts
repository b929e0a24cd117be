/** What a quality benchmark run measures and where its reports go. */
export interface QualityBenchOptions {
  /** A LoCoMo-format JSON file. */
  data: string;
  limitConversations?: number;
  /** Where the reports go (default bench/reports). */
  outDir?: string;
  /** Extra environment for the product (an embedder switch, a model, …). */
  env?: Record<string, string>;
  /** Questions in flight at once (default 4). */
  concurrency?: number;
  /** Let the product use every core instead of pinning it to core 0 (default false). */
  noPin?: boolean;
  /** An existing Temporal to use instead of starting a dev server. */
  temporalAddress?: string;
  /** The command line to record in the report. */
  command?: string;
  log?: (message: string) => void;
}
