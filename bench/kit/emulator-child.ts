// The Gemini emulator as a child process of the benchmark (`npm run emulator`'s own
// script, under the project's tsx), so its answers, latency timers and JSON work never
// run on the load generator's event loop. Settings and counters travel over IPC.
import type {
  EmulatorStats,
  GeminiEmulatorSettings,
} from '../../tools/gemini-emulator/emulator.ts';
import { spawnRpcChild } from './child-rpc.ts';

/** Settings that can cross a process boundary: a responder only by its built-in name. */
export type EmulatorChildSettings = Omit<GeminiEmulatorSettings, 'responder'> & {
  responder?: Extract<GeminiEmulatorSettings['responder'], string> | null;
};

/** A running emulator child: where it listens, and its settings and counters. */
export interface EmulatorChild {
  /** Base URL for GEMINI_BASE_URL, on loopback. */
  url: string;
  port: number;
  pid: number;
  configure(settings: EmulatorChildSettings): Promise<void>;
  stats(): Promise<EmulatorStats>;
  resetStats(): Promise<void>;
  /** Stops it (SIGTERM, then SIGKILL); it also exits by itself when this process goes. */
  close(): Promise<void>;
}

/**
 * Starts `scripts/emulator.ts` with the project's tsx on a free loopback port
 * (`--port 0`), with its logs appended to `logFile`, and resolves once it listens.
 */
export async function spawnEmulatorChild(opts: {
  projectRoot: string;
  logFile: string;
  settings?: EmulatorChildSettings;
}): Promise<EmulatorChild> {
  const child = await spawnRpcChild<{ url: string; port: number }>({
    entry: 'scripts/emulator.ts',
    nodeArgs: ['--import', 'tsx'],
    args: ['--port', '0', '--host', '127.0.0.1'],
    cwd: opts.projectRoot,
    // Its defaults, not whatever GEMINI_EMULATOR_* the shell has: the benchmark configures it.
    env: {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GEMINI_EMULATOR_'))), // prettier-ignore
      LOG_LEVEL: 'warn',
    },
    logFile: opts.logFile,
  });
  const emulator: EmulatorChild = {
    ...child.ready,
    pid: child.pid,
    configure: (settings) => child.call('configure', settings),
    stats: () => child.call('stats'),
    resetStats: () => child.call('resetStats'),
    close: () => child.stop(),
  };
  if (opts.settings) await emulator.configure(opts.settings);
  return emulator;
}
