// The parent's side of its API and worker processes: starting one (a cluster
// worker sharing the port, or a forked worker process in a process group of
// its own), waiting until it says it serves, and stopping it in order.
import { fork, type ChildProcess } from 'node:child_process';
import cluster from 'node:cluster';
import path from 'node:path';
import type { IpcPeer, TokenBucketServer } from '../infra/cluster/ipc-token-buckets.ts';
import type { ServiceRun } from '../infra/process/supervisor.ts';
import { projectRoot } from '../infra/project-root.ts';
import { isReadyMessage, LAYOUT_CHILD_ENV } from './layout-child.ts';

export type ChildKind = 'api' | 'worker';

/** What starting one child needs. */
export interface ChildOptions {
  kind: ChildKind;
  /** The child's environment (the parent's, with the shared services' addresses). */
  env: NodeJS.ProcessEnv;
  /** The parent's buckets, which the child asks over IPC; absent when Redis holds them. */
  buckets?: TokenBucketServer | undefined;
  /** How long the child may take to serve before it is killed (default 180 s). */
  readyTimeoutMs?: number;
  /** How long it may take to stop (finish requests, drain) after SIGTERM before SIGKILL. */
  stopTimeoutMs: number;
  /** Told the child's API address once it serves. */
  onReady?: (apiUrl: string | null) => void;
}

/**
 * Children run the TypeScript entry points as `node --import tsx`; an
 * absolute loader URL does not depend on the directory npm start was run
 * from (a bare `tsx` is the fallback where `import.meta.resolve` is missing).
 */
function execArgv(): string[] {
  const resolve = (import.meta as { resolve?: (specifier: string) => string }).resolve;
  return ['--import', typeof resolve === 'function' ? resolve('tsx') : 'tsx'];
}
const script = (kind: ChildKind) =>
  path.join(projectRoot, 'scripts', kind === 'api' ? 'start-api.ts' : 'start-worker.ts');

/**
 * API processes are cluster workers: they listen on PORT and the parent
 * hands them connections. Cluster workers cannot be detached, so they ignore
 * Ctrl-C's SIGINT themselves (see run-stack.ts) and wait for the parent.
 */
function spawnApi(env: NodeJS.ProcessEnv): { peer: IpcPeer; child: ChildProcess } {
  cluster.setupPrimary({ exec: script('api'), execArgv: execArgv(), args: [] });
  const worker = cluster.fork(env);
  return { peer: worker, child: worker.process };
}

/** Worker processes get a process group of their own: Ctrl-C reaches only the parent. */
function spawnWorker(env: NodeJS.ProcessEnv): { peer: IpcPeer; child: ChildProcess } {
  const child = fork(script('worker'), [], {
    env,
    execArgv: execArgv(),
    detached: true,
    stdio: 'inherit',
  });
  return { peer: child, child };
}

function exitOf(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    const how = () =>
      child.signalCode ? `killed by ${child.signalCode}` : `code ${String(child.exitCode)}`;
    if (child.exitCode !== null || child.signalCode !== null) resolve(how());
    else child.once('exit', () => resolve(how()));
  });
}

/**
 * Starts one API or worker process and resolves once it has said it serves
 * (rejects when it exits or times out first). Its `stop()` sends SIGTERM,
 * which the child answers by finishing its requests or draining its
 * workers, and SIGKILLs it after `stopTimeoutMs`.
 */
export async function startChild(options: ChildOptions): Promise<ServiceRun> {
  const env = { ...options.env, [LAYOUT_CHILD_ENV]: options.kind };
  const { peer, child } = options.kind === 'api' ? spawnApi(env) : spawnWorker(env);
  const detach = options.buckets?.serve(peer);
  const exited = exitOf(child).then((how) => {
    detach?.();
    return how;
  });
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), options.stopTimeoutMs);
      await exited;
      clearTimeout(timer);
    })());
  const readyTimeoutMs = options.readyTimeoutMs ?? 180_000;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`${options.kind} process did not start within ${readyTimeoutMs} ms`));
      void stop();
    }, readyTimeoutMs);
    const onMessage = (message: unknown) => {
      if (!isReadyMessage(message)) return;
      clearTimeout(timer);
      peer.off('message', onMessage);
      options.onReady?.(message.apiUrl);
      resolve();
    };
    peer.on('message', onMessage);
    void exited.then((how) => {
      clearTimeout(timer);
      peer.off('message', onMessage);
      reject(new Error(`${options.kind} process exited before it served (${how})`));
    });
  });
  if (child.pid === undefined) throw new Error(`${options.kind} process has no pid`);
  return { pid: child.pid, exited, stop };
}
