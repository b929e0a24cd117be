import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface TempDir {
  readonly path: string;
  /** Deletes the directory and everything in it. */
  remove(): Promise<void>;
}

/** A fresh directory under the system's temporary directory, named from `prefix`. */
export async function createTempDir(prefix: string): Promise<TempDir> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return { path: dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}
