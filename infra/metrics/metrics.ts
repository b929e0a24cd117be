import { collectDefaultMetrics, Registry } from 'prom-client';
import type { TieredCacheStats } from '../../core/cache/tiered-cache.ts';
import type { PlanBackfillStats } from '../../core/planning/plan-backfill.ts';
import type { GenerateInput, LanguageModel } from '../../core/ports/language-model.ts';
import type { MemoryMonitorStats, MemorySample } from '../monitoring/memory-monitor.ts';
import { metricFactory } from './metric-factory.ts';
import { registerSourceMetrics } from './source-metrics.ts';

/** Where the metrics read what they do not count themselves (each read at scrape time). */
export interface MetricsSources {
  /** The engine's caches (`engine.caches.plan`, `.search`): their own counters, read, never re-counted. */
  caches?: readonly { stats(): TieredCacheStats }[];
  /** The memory monitor's latest sample and counters. */
  memory?: { latest(): MemorySample; stats(): MemoryMonitorStats };
  /** The background planning of messages whose plan fell back (null: off, or no model). */
  planBackfill?: () => PlanBackfillStats | null;
  /** Narratives waiting to be generated; null when unknown (exported as NaN). */
  narrativeQueueDepth?: () => Promise<number | null>;
  /** The Temporal Core runtime's Prometheus endpoint, appended to every scrape. */
  temporalMetricsUrl?: string;
  /** Node's process metrics (`process_*`, `nodejs_*`); default true. */
  defaultMetrics?: boolean;
}

export type MessageClass = 'simple' | 'complex' | 'new_conversation' | 'none';

export interface HttpObservation {
  method: string;
  /** The route pattern (`/v1/memories/:id`), never the raw URL; `unmatched` for 404s. */
  route: string;
  status: number;
  messageClass: MessageClass;
  seconds: number;
}

export interface Metrics {
  readonly registry: Registry;
  readonly contentType: string;
  observeHttp(observation: HttpObservation): void;
  /** One classifier decision on the context path. */
  countClassification(cls: string, reason: string): void;
  /** Model calls a context request made (from its result), by where its plan came from. */
  countContextModelCalls(planSource: string, calls: number): void;
  /** A context request planned heuristically because the model could not plan, by why. */
  countPlanFallback(reason: string): void;
  /** A heavy request refused under memory pressure. */
  countShed(route: string): void;
  /** Wraps a language model so every call is counted and timed, by outcome. */
  instrumentModel(model: LanguageModel): LanguageModel;
  /**
   * Adds sources known only later (the engine's caches exist after the engine,
   * which is built over the instrumented model).
   */
  addSources(more: Partial<MetricsSources>): void;
  /** The text exposition: this registry, then the Temporal runtime's metrics when configured. */
  render(): Promise<string>;
}

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const MODEL_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];
const SCRAPE_TIMEOUT_MS = 1_000;

/**
 * Builds a metrics registry of its own (never prom-client's global one, so
 * tests can build several apps in one process). Counters the product keeps
 * anyway (cache stats, monitor stats) are read through `collect()` at scrape
 * time rather than counted twice.
 */
export function createMetrics(initial: MetricsSources = {}): Metrics {
  const sources: MetricsSources = { ...initial };
  const registry = new Registry();
  if (sources.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  const metric = metricFactory(registry, 'memory_engine_');

  const http = metric.histogram(
    'http_request_duration_seconds',
    'HTTP request latency by route pattern, method, status and message class',
    ['method', 'route', 'status_code', 'message_class'],
    HTTP_BUCKETS,
  );
  const classifier = metric.counter(
    'classifier_decisions_total',
    'Context messages by the class the classifier gave them, and the rule that fired',
    ['class', 'reason'],
  );
  const contextModelCalls = metric.counter(
    'context_model_calls_total',
    'Model calls made by context requests, by plan source',
    ['plan_source'],
  );
  const planFallbacks = metric.counter(
    'context_plan_fallbacks_total',
    'Context requests planned heuristically although a model is configured, by why the model could not plan',
    ['reason'],
  );
  const modelCalls = metric.counter(
    'model_calls_total',
    'Language model calls by model and outcome (ok or the error code)',
    ['model', 'outcome'],
  );
  const modelLatency = metric.histogram(
    'model_call_duration_seconds',
    'Language model call latency by model and outcome',
    ['model', 'outcome'],
    MODEL_BUCKETS,
  );
  const shed = metric.counter(
    'requests_shed_total',
    'Requests refused (503 overloaded) because memory was above the shedding level',
    ['route'],
  );

  registerSourceMetrics(metric, () => sources);

  const outcomeOf = (error: unknown) =>
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string'
      ? (error as { code: string }).code
      : 'error';

  return {
    registry,
    contentType: registry.contentType,
    observeHttp(o) {
      http.observe(
        {
          method: o.method,
          route: o.route,
          status_code: String(o.status),
          message_class: o.messageClass,
        },
        o.seconds,
      );
    },
    countClassification: (cls, reason) => classifier.inc({ class: cls, reason }),
    countContextModelCalls(planSource, calls) {
      if (calls > 0) contextModelCalls.inc({ plan_source: planSource }, calls);
    },
    countPlanFallback: (reason) => planFallbacks.inc({ reason }),
    countShed: (route) => shed.inc({ route }),
    instrumentModel(model) {
      return {
        id: model.id,
        async generate(input: GenerateInput) {
          const started = performance.now();
          let outcome = 'ok';
          try {
            return await model.generate(input);
          } catch (error) {
            outcome = outcomeOf(error);
            throw error;
          } finally {
            modelCalls.inc({ model: model.id, outcome });
            modelLatency.observe(
              { model: model.id, outcome },
              (performance.now() - started) / 1000,
            );
          }
        },
      };
    },
    addSources(more) {
      Object.assign(sources, more);
    },
    async render() {
      const own = await registry.metrics();
      if (!sources.temporalMetricsUrl) return own;
      return `${own}\n${await scrapeTemporal(sources.temporalMetricsUrl)}`;
    },
  };
}

/** The Temporal runtime's exposition text, or a comment saying why it is missing. */
async function scrapeTemporal(url: string): Promise<string> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS) });
    if (!res.ok) throw new Error(`answered ${res.status}`);
    return await res.text();
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return `# Temporal worker metrics unavailable from ${url}: ${why.replace(/\s+/g, ' ')}\n`;
  }
}
