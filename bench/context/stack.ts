// The context benchmark's stack: the Gemini emulator standing in for the model (plans
// and entity lists, at the real model's latency when asked) and the product child
// pointed at it, with the pipeline's switches.
import { cleanups, log, startProductChild, type ProductChild } from '../bench-kit.ts';
import {
  startGeminiEmulator,
  type EmulatorGenerateRequest,
  type GeminiEmulator,
} from '../../tools/gemini-emulator/emulator.ts';
import { PLAN_LATENCY } from './options.ts';

/** Plans for planning prompts, capitalised words as entities for extraction prompts. */
function responder(request: EmulatorGenerateRequest): string {
  if (request.system?.includes('You plan how')) {
    const words = request.prompt
      .toLowerCase()
      .replace(/[^a-z0-9' ]+/g, ' ')
      .split(/\s+/)
      .filter((w) => w.length > 3);
    const queries = [request.prompt.slice(0, 280)];
    if (words.length > 2) queries.push(words.slice(-4).join(' '));
    return JSON.stringify({
      strategy: words.length > 10 ? 'comprehensive_analysis' : 'deep_understanding',
      queries,
      include_narrative: /pattern|changed|evolved|relationship/i.test(request.prompt),
      save_worthy: false,
    });
  }
  const names = [...new Set(request.prompt.match(/\b[A-Z][a-z]{2,}(?: [A-Z][a-z]+)?\b/g) ?? [])]
    .filter((n) => !/^(I|My|On|For|Took|Called|Cooked|Work|The)$/.test(n))
    .slice(0, 6);
  return JSON.stringify({
    entities: names.map((name) => ({ name, type: 'thing' })),
    relations: [],
  });
}

/** The emulator on a free port, stopped at clean-up. */
export async function startEmulator(): Promise<GeminiEmulator> {
  const emulator = await startGeminiEmulator({ port: 0, responder });
  cleanups.push({ name: 'gemini emulator', run: () => emulator.close() });
  log(`Gemini emulator on ${emulator.url}`);
  return emulator;
}

/** Planning at the real model's latency when `real`; embeddings at `embedMs` (0: none). */
export function setEmulatorLatency(emulator: GeminiEmulator, real: boolean, embedMs: number) {
  const embed = embedMs > 0 ? { medianMs: embedMs, p95Ms: embedMs * 2 } : null;
  emulator.configure({
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
