import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root, where child processes run. */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface ReadyProcess {
  child: ChildProcess;
  /** The match of `ready` in the output. */
  match: RegExpExecArray;
  /** Everything it has written so far, stdout and stderr together. */
  output(): string;
}

/**
 * Spawns `command` in the repository root with `env` over this process's
 * environment, and resolves once its output matches `ready`; rejects with
 * that output if it exits first.
 */
export function spawnUntilReady(
  name: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  ready: RegExp,
): Promise<ReadyProcess> {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (match) resolve({ child, match, output: () => output });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code, signal) =>
      reject(new Error(`${name} exited (${code ?? signal}):\n${output}`)),
    );
  });
}

/**
 * Spawns a TypeScript file of the repository (`script`, from its root) under
 * Node itself, not the tsx wrapper: a SIGKILL must end the process, not a
 * parent it would outlive.
 */
export function spawnScriptUntilReady(
  name: string,
  script: string,
  env: Record<string, string>,
  ready: RegExp,
): Promise<ReadyProcess> {
  const file = path.join(ROOT, script);
  return spawnUntilReady(name, process.execPath, ['--import', 'tsx', file], env, ready);
}

/** Resolves with the exit code (null when a signal ended it) once the child has exited. */
export function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) =>
    // A signalled process has a signalCode and no exitCode.
    child.exitCode !== null || child.signalCode !== null
      ? resolve(child.exitCode)
      : child.once('exit', (code) => resolve(code)),
  );
}
