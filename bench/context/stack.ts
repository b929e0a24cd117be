// The context benchmark's stack: the Gemini emulator standing in for the model (its
// default answers: plans, entity lists and portraits, at the real model's latency when
// asked), in a process of its own, and the product child pointed at it, with the
// pipeline's switches.
import path from 'node:path';
import {
  cleanups,
  forceKill,
  log,
  PROJECT_ROOT,
  spawnEmulatorChild,
  startProductChild,
  type EmulatorChild,
  type ProductChild,
} from '../bench-kit.ts';
import { PLAN_LATENCY } from './options.ts';

/** The emulator as a child process on a free loopback port, logging to `runDir`, stopped at clean-up. */
export async function startEmulator(runDir: string): Promise<EmulatorChild> {
  const emulator = await spawnEmulatorChild({
    projectRoot: PROJECT_ROOT,
    logFile: path.join(runDir, 'emulator.log'),
  });
  forceKill.pids.add(emulator.pid);
  cleanups.push({ name: 'gemini emulator', run: () => emulator.close() });
  log(`Gemini emulator (pid ${emulator.pid}) on ${emulator.url}`);
  return emulator;
}

/** Planning at the real model's latency when `real`; embeddings at `embedMs` (0: none). */
export function setEmulatorLatency(
  emulator: EmulatorChild,
  real: boolean,
  embedMs: number,
): Promise<void> {
  const embed = embedMs > 0 ? { medianMs: embedMs, p95Ms: embedMs * 2 } : null;
  return emulator.configure({
    methods: {
      generateContent: { latency: real ? PLAN_LATENCY : null },
      embedContent: { latency: embed },
      batchEmbedContents: { latency: embed },
    },
  });
}

export interface StackOptions {
  dataDir: string;
  /** The bench's own Temporal; unset, the product starts its own on `temporalPorts`. */
  temporalAddress: string | undefined;
  temporalPorts: { port: number; uiPort: number };
  geminiUrl: string;
  adminKey: string;
  logFile: string;
  /** Pin the product child to core 0 (the `postgres` layout). */
  pin: boolean;
  databaseUrl: string | undefined;
  /** The layout's own variables: STORE, PROCESSES, API_PROCESSES, WORKER_PROCESSES. */
  layoutEnv: Record<string, string>;
}

/** The product with the emulator as its model, in the layout of `opts`, with `switches`. */
export function startStackChild(
  opts: StackOptions,
  switches: Record<string, string>,
): Promise<ProductChild> {
  return startProductChild({
    dataDir: opts.dataDir,
    temporalAddress: opts.temporalAddress,
    temporalPorts: opts.temporalPorts,
    adminKey: opts.adminKey,
    logFile: opts.logFile,
    pin: opts.pin,
    env: {
      // An empty URL: no model at all (`--model none`), as `npm start` ships.
      GEMINI_BASE_URL: opts.geminiUrl,
      ...(opts.databaseUrl ? { DATABASE_URL: opts.databaseUrl } : {}),
      ...opts.layoutEnv,
      ...switches,
    },
  });
}
