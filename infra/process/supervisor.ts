import { errorMessage } from './process-tools.ts';

/** One run of a supervised service, ready to serve. */
export interface ServiceRun {
  pid: number;
  /** Resolves with how the run ended (`code 1`, `killed by SIGKILL`, …). */
  exited: Promise<string>;
  /** Stops the run and waits for it; safe to call more than once. */
  stop(): Promise<void>;
}

export type SupervisedState = 'running' | 'restarting' | 'stopped';

/** What `/readyz` and the dashboard show about a supervised service. */
export interface SupervisedStatus {
  name: string;
  state: SupervisedState;
  /** The running child's pid; null while restarting or stopped. */
  pid: number | null;
  /** Restarts since the supervisor started. */
  restarts: number;
  /** How the last run ended, or why the last restart failed; null before any. */
  lastExit: string | null;
  /** When the current state began (ISO time). */
  since: string;
}

export interface BackoffOptions {
  /** Pause before the first restart (default 500 ms), doubled after each failure. */
  initialMs?: number;
  /** The longest pause (default 30 s). */
  maxMs?: number;
  /** A run that served this long (default 60 s) resets the pause to `initialMs`. */
  resetAfterMs?: number;
}

export interface SupervisorOptions {
  /** Names the service in logs and statuses (`temporal dev server`). */
  name: string;
  /** Starts one run and resolves once it serves; rejects when it cannot. */
  start: () => Promise<ServiceRun>;
  backoff?: BackoffOptions;
  /** Receives one line per exit, restart and failed restart. */
  log: (level: 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
}

/** A service that is started again whenever it dies, until `stop()`. */
export interface Supervisor {
  status(): SupervisedStatus;
  /** Stops the current run without restarting it; waits for a restart in progress. */
  stop(): Promise<void>;
}

const DEFAULT_BACKOFF = { initialMs: 500, maxMs: 30_000, resetAfterMs: 60_000 };

/**
 * Starts a service and keeps it up: when a run ends on its own it is started
 * again after a pause that doubles from `initialMs` to `maxMs` while runs keep
 * failing, and resets once a run has served `resetAfterMs`. The first start
 * must succeed (its error is thrown); `stop()` ends supervision first, so a
 * clean shutdown never triggers a restart.
 */
export async function superviseService(options: SupervisorOptions): Promise<Supervisor> {
  const backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
  const { name, log } = options;
  let run = await options.start();
  let startedAt = Date.now();
  let status: SupervisedStatus = {
    name,
    state: 'running',
    pid: run.pid,
    restarts: 0,
    lastExit: null,
    since: new Date().toISOString(),
  };
  const set = (patch: Partial<SupervisedStatus>) => {
    status = { ...status, since: new Date().toISOString(), ...patch };
  };
  const stopping = new AbortController();
  let delayMs = backoff.initialMs;

  // Restarts until one run serves; resolves undefined when stopped meanwhile.
  const restart = async (): Promise<ServiceRun | undefined> => {
    while (!stopping.signal.aborted) {
      log('warn', `${name} restarting in ${delayMs} ms`, { service: name, delayMs });
      await pause(delayMs, stopping.signal);
      if (stopping.signal.aborted) return undefined;
      delayMs = Math.min(delayMs * 2, backoff.maxMs);
      try {
        const next = await options.start();
        if (!stopping.signal.aborted) return next;
        await next.stop();
        return undefined;
      } catch (error) {
        set({ lastExit: `restart failed: ${errorMessage(error)}` });
        log('error', `${name} could not be restarted`, { service: name, err: error });
      }
    }
    return undefined;
  };

  const watch = async () => {
    while (!stopping.signal.aborted) {
      const how = await run.exited;
      if (stopping.signal.aborted) return;
      if (Date.now() - startedAt >= backoff.resetAfterMs) delayMs = backoff.initialMs;
      set({ state: 'restarting', pid: null, lastExit: how });
      log('warn', `${name} exited (${how})`, { service: name, exit: how });
      const next = await restart();
      if (!next) return;
      run = next;
      startedAt = Date.now();
      set({ state: 'running', pid: next.pid, restarts: status.restarts + 1 });
      log('info', `${name} restarted`, { service: name, pid: next.pid, restarts: status.restarts });
    }
  };
  const watching = watch().catch((error: unknown) => {
    set({ state: 'stopped', pid: null, lastExit: `supervision failed: ${errorMessage(error)}` });
    log('error', `${name} is no longer supervised`, { service: name, err: error });
  });

  return {
    status: () => status,
    async stop() {
      stopping.abort();
      // The current run first: the watcher waits for it to end.
      await run.stop();
      await watching;
      // A restart that completed as stop() began has left its run in `run`.
      await run.stop();
      set({ state: 'stopped', pid: null });
    },
  };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
