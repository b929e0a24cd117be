// The clean-up registry with its Ctrl-C handling (installed on import), so everything
// a benchmark started is stopped however it ends, and the one way a benchmark's
// `main` ends: its own exit code after clean-up.
import fs from 'node:fs';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
export const log = (msg: string) =>
  console.log(`[${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** A bad command line: said in one line, exit code 2 (see {@link runBench}). */
export class UsageError extends Error {}

/** What `cleanup()` stops, last registered first. */
export const cleanups: { name: string; run: () => Promise<void> }[] = [];
/** Processes and directories to remove synchronously if a second Ctrl-C forces an exit. */
export const forceKill = { pids: new Set<number>(), dirs: new Set<string>() };

let cleaningUp: Promise<void> | undefined;
export function cleanup(): Promise<void> {
  cleaningUp ??= (async () => {
    for (const { name, run } of cleanups.splice(0).reverse()) {
      try {
        await run();
      } catch (error) {
        console.error(`cleanup ${name} failed: ${(error as Error).message}`);
      }
    }
  })();
  return cleaningUp;
}

let interrupted = false;
let interruptedAt = 0;
export const isInterrupted = () => interrupted;
export const checkInterrupted = () => {
  if (interrupted) throw new Error('interrupted');
};

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) {
      // Ctrl-C reaches this process twice (the terminal and tsx's relay): only a later
      // signal forces the exit.
      if (Date.now() - interruptedAt < 3000) return;
      for (const pid of forceKill.pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      for (const dir of forceKill.dirs) fs.rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    }
    interrupted = true;
    interruptedAt = Date.now();
    log(`${signal}: stopping everything this benchmark started (again to force)`);
    void cleanup().finally(() => process.exit(130));
  });
}

/**
 * Runs a benchmark's `main`. A failure is printed under `name` and everything the
 * run started is cleaned up before the exit: 130 after an interrupt, 2 for a
 * {@link UsageError} (one line, no stack), 1 otherwise.
 */
export function runBench(name: string, main: () => Promise<void>): void {
  main().catch(async (error: unknown) => {
    if (isInterrupted()) {
      await cleanup();
      process.exit(130);
    }
    if (error instanceof UsageError) {
      console.error(`${name}: ${error.message}`);
      await cleanup();
      process.exit(2);
    }
    console.error(`${name}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`); // prettier-ignore
    await cleanup();
    process.exit(1);
  });
}
