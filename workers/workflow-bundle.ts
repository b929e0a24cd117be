// The workflow bundle, built in a child process. Bundling loads webpack and its
// loaders, about 100 MB that a process keeps for its whole life once loaded; the
// product's process only needs the bundle's code (about 2 MB), so a short-lived
// child builds it and hands the code back through a temporary file.
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';

const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));
const CHILD = fileURLToPath(new URL('./bundle-workflows.ts', import.meta.url));

/** How long the child may take: bundling takes a few seconds, more on a loaded machine. */
const BUNDLE_TIMEOUT_MS = 300_000;

/** The bundle of `workflows/index.ts` (or another entry), built by a child process; its warnings go to `logger`. */
export async function buildWorkflowBundle(
  logger: Logger,
  workflowsPath = WORKFLOWS_PATH,
): Promise<{ code: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'memory-engine-bundle-'));
  const out = path.join(dir, 'workflows.js');
  try {
    const stderr = await runChild([CHILD, workflowsPath, out]);
    if (stderr.trim()) logger.warn({ output: stderr.trim().slice(-4000) }, 'workflow bundler');
    return { code: await fs.readFile(out, 'utf8') };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function runChild(args: string[]): Promise<string> {
  // `node --import tsx`, with the loader's absolute URL (the child's working
  // directory need not be the project's).
  const tsx = import.meta.resolve('tsx');
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', tsx, ...args],
      { timeout: BUNDLE_TIMEOUT_MS, maxBuffer: 16 * 2 ** 20, env: process.env },
      (error, _stdout, stderr) => {
        if (!error) return resolve(stderr);
        const tail = stderr.trim().split('\n').slice(-20).join('\n');
        reject(new Error(`bundling the workflow code failed: ${error.message}${tail ? `\n${tail}` : ''}`)); // prettier-ignore
      },
    );
  });
}
