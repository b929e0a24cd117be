import type { Engine } from '../../core/engine.ts';
import { createLogger } from '../../infra/logger.ts';
import type { Metrics } from '../../infra/metrics/metrics.ts';
import {
  createMemoryMonitor,
  type MemoryMonitor,
  type MemoryReading,
  type MemorySample,
} from '../../infra/monitoring/memory-monitor.ts';
import type { EmulatorResponder, GeminiEmulator } from '../../tools/gemini-emulator/emulator.ts';
import { startEmulatedEngine } from './emulated-model.ts';
import { closeOnFailure } from './close-on-failure.ts';
import { lateBound, suiteFixture } from './late-bound.ts';
import { startTestApi, type TestApi } from './test-api.ts';
import type { TestEngine } from './test-engine.ts';

const MB = 1024 * 1024;

export interface MonitoredAppOptions {
  /** How the Gemini emulator answers the engine's model. */
  responder: EmulatorResponder;
  budgetMb: number;
  /**
   * The memory reading starts at this percentage of the budget and moves
   * only with `at()`, and the monitor decides admission: heavy queries are
   * shed. Without it the monitor reads this process every `intervalMs` and
   * only watches, since the test process is far larger than an API alone.
   */
  usagePct?: number;
  intervalMs?: number;
  webhookUrl?: string;
  /** Metrics over the app's caches and monitor, counting the engine's model calls. */
  metrics?: Metrics;
  /** Serves `/v1/admin/loadtests`, starting runs on this task queue. */
  loadTestsQueue?: string;
}

export interface MonitoredApp {
  emulator: GeminiEmulator;
  engine: TestEngine;
  api: TestApi;
  monitor: MemoryMonitor;
  /** Sets the reading to `pct` % of the budget and samples it (with `usagePct` only). */
  at(pct: number): MemorySample;
  stop(): Promise<void>;
}

/**
 * The real API over a PGlite engine whose model is the Gemini emulator, with
 * a memory monitor over the engine's caches (search cleared first) and,
 * when given, metrics that read them, as the app wires them in production.
 */
export async function startMonitoredApp(options: MonitoredAppOptions): Promise<MonitoredApp> {
  const { emulator, engine, close } = await startEmulatedEngine(options.responder);
  const ramp = options.usagePct !== undefined;
  let usagePct = options.usagePct ?? 0;
  let monitor: MemoryMonitor | undefined;
  const readMemory = (): MemoryReading => ({
    rss: (usagePct / 100) * options.budgetMb * MB,
    heapUsed: 120 * MB,
    heapTotal: 180 * MB,
    external: 10 * MB,
  });
  const observe = (built: Engine) => {
    monitor = createMemoryMonitor({
      budgetMb: options.budgetMb,
      logger: createLogger('silent'),
      caches: [built.caches.search, built.caches.plan],
      ...(ramp ? { readMemory } : {}),
      ...(options.intervalMs ? { intervalMs: options.intervalMs } : {}),
      ...(options.webhookUrl ? { webhookUrl: options.webhookUrl } : {}),
    });
    if (ramp) monitor.sampleNow();
    else monitor.start();
    options.metrics?.addSources({
      caches: [built.caches.plan, built.caches.search],
      memory: monitor,
    });
    return { monitor, ...(options.metrics ? { metrics: options.metrics } : {}) };
  };
  const { metrics } = options;
  const api = await closeOnFailure(
    async () => {
      monitor?.stop();
      await close();
    },
    () =>
      startTestApi(engine, {
        ...(metrics
          ? { deps: { model: engine.model && metrics.instrumentModel(engine.model) } }
          : {}),
        ...(ramp ? { hooks: { admitHeavy: () => monitor!.admitHeavy() } } : {}),
        ...(options.loadTestsQueue ? { loadTestsQueue: options.loadTestsQueue } : {}),
        observe,
      }),
  );
  return {
    emulator,
    engine,
    api,
    monitor: monitor!,
    at(pct) {
      if (!ramp) throw new Error('at() moves a set reading: start the app with usagePct');
      usagePct = pct;
      return monitor!.sampleNow();
    },
    async stop() {
      monitor?.stop();
      await api.stop();
      await close();
    },
  };
}

/**
 * A monitored app for the current suite (call inside `describe`): started
 * before its tests, stopped after them. `options` may be a function, for
 * options made in the suite's own set-up.
 */
export function useMonitoredApp(
  options: MonitoredAppOptions | (() => Promise<MonitoredAppOptions>),
): Omit<MonitoredApp, 'stop'> {
  const app = suiteFixture(
    'the monitored app',
    async () => startMonitoredApp(typeof options === 'function' ? await options() : options),
    (started) => started.stop(),
  );
  return {
    emulator: lateBound(() => app.emulator),
    engine: lateBound(() => app.engine),
    api: lateBound(() => app.api),
    monitor: lateBound(() => app.monitor),
    at: (pct) => app.at(pct),
  };
}
