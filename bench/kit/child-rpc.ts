// Helpers a benchmark runs beside the product, each a child process of its own (so
// neither its CPU nor its pauses land on the load generator's event loop), asked
// questions over the Node IPC channel. The child side serves named operations and
// exits when the channel closes, so a benchmark that dies, however it dies, takes
// its helpers with it. No imports from the rest of the kit: `scripts/emulator.ts`
// serves through it without installing the kit's signal handlers.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';

/** A request from the parent: one named operation and its argument. */
interface RpcRequest {
  rpc: number;
  op: string;
  arg?: unknown;
}
type RpcReply = { rpc: number; value?: unknown; error?: string };
/** What a child announces once it serves: whatever the parent needs to know (a URL...). */
type ReadyMessage = { ready: unknown };

export type RpcHandlers = Record<string, (arg: unknown) => unknown>;

const CALL_TIMEOUT_MS = 30_000;

/**
 * Child side: answers the parent's requests with `handlers` and announces `ready`;
 * when the parent goes (the channel closes), runs `onDisconnect` (default: exit).
 * Returns false, doing nothing, when the process has no IPC channel (run by hand).
 */
export function serveRpc(
  handlers: RpcHandlers,
  ready: unknown,
  onDisconnect: () => void = () => process.exit(0),
): boolean {
  const send = process.send?.bind(process);
  if (!send || !process.connected) return false;
  process.on('message', (message: RpcRequest) => {
    void (async () => {
      const handler = Object.hasOwn(handlers, message.op) ? handlers[message.op] : undefined;
      try {
        if (!handler) throw new Error(`unknown operation ${message.op}`);
        send({ rpc: message.rpc, value: (await handler(message.arg)) ?? null } satisfies RpcReply);
      } catch (error) {
        send({ rpc: message.rpc, error: (error as Error).message } satisfies RpcReply);
      }
    })();
  });
  process.once('disconnect', onDisconnect);
  send({ ready } satisfies ReadyMessage);
  return true;
}

/** A running helper: its pid, what it announced, requests to it, and how to stop it. */
export interface RpcChild<Ready> {
  pid: number;
  ready: Ready;
  call<T>(op: string, arg?: unknown): Promise<T>;
  /** True once the process has exited. */
  exited(): boolean;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Parent side: `node [...nodeArgs] <entry> [...args]` in `cwd` with an IPC channel and
 * its output appended to `logFile`; resolves with what it announced, rejects (with
 * the log's tail) if it exits or stays silent for `readyTimeoutMs` first.
 */
export async function spawnRpcChild<Ready>(opts: {
  entry: string;
  args?: string[];
  nodeArgs?: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  readyTimeoutMs?: number;
}): Promise<RpcChild<Ready>> {
  const out = fs.openSync(opts.logFile, 'a');
  const child = spawn(
    process.execPath,
    [...(opts.nodeArgs ?? []), opts.entry, ...(opts.args ?? [])],
    { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', out, out, 'ipc'] },
  );
  fs.closeSync(out);
  let exited = false;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exit.then(() => (exited = true));
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  let next = 0;
  const ready = await waitReady<Ready>(child, exit, opts.logFile, opts.readyTimeoutMs ?? 60_000);
  // The channel keeps this process alive only while a request waits for its answer.
  const settle = (rpc: number) => {
    const waiter = pending.get(rpc);
    pending.delete(rpc);
    if (pending.size === 0) child.channel?.unref();
    return waiter;
  };
  child.on('message', (reply: RpcReply) => {
    const waiter = settle(reply.rpc);
    if (reply.error !== undefined) waiter?.reject(new Error(reply.error));
    else waiter?.resolve(reply.value);
  });
  void exit.then(() => {
    for (const w of pending.values()) w.reject(new Error(`${opts.entry} exited`));
    pending.clear();
  });
  child.unref();
  child.channel?.unref();
  return {
    pid: child.pid!,
    ready,
    call<T>(op: string, arg?: unknown) {
      if (exited || !child.connected) return Promise.reject(new Error(`${opts.entry} is not running`)); // prettier-ignore
      const rpc = ++next;
      return new Promise<T>((resolve, reject) => {
        // A helper that stops answering must not hang the benchmark (or its clean-up).
        const timer = setTimeout(() => {
          settle(rpc);
          reject(new Error(`${opts.entry}: no answer to ${op} within ${CALL_TIMEOUT_MS} ms`));
        }, CALL_TIMEOUT_MS);
        timer.unref();
        const done =
          <V>(f: (v: V) => void) =>
          (v: V) => (clearTimeout(timer), f(v));
        pending.set(rpc, { resolve: done(resolve as (v: unknown) => void), reject: done(reject) });
        child.channel?.ref();
        child.send({ rpc, op, arg } satisfies RpcRequest);
      });
    },
    exited: () => exited,
    async stop(graceMs = 5000) {
      if (exited) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exit;
      clearTimeout(timer);
    },
  };
}

function waitReady<Ready>(
  child: ChildProcess,
  exit: Promise<void>,
  logFile: string,
  timeoutMs: number,
): Promise<Ready> {
  const tail = () => fs.readFileSync(logFile, 'utf8').split('\n').slice(-15).join('\n');
  return new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready message within ${timeoutMs} ms; log tail:\n${tail()}`));
    }, timeoutMs);
    const onMessage = (message: Partial<ReadyMessage>) => {
      if (!('ready' in message)) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message.ready as Ready);
    };
    child.on('message', onMessage);
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited before it was ready; log tail:\n${tail()}`));
    });
  });
}
