import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './child-process.ts';

/** How a `memory-engine` run ended: its exit code (null when a signal ended it) and output. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * `memory-engine <args>` as a user runs it: `bin/memory-engine.mjs` in a
 * process of its own, in the repository root, with `env` over this
 * process's environment and `input` (default: nothing) on its stdin.
 */
export function runMemoryEngine(
  args: string[],
  env: Record<string, string>,
  input = '',
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/memory-engine.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}
