"""Reference cosines for test/integration/e5-embedder.test.ts, computed outside the product.

Python's onnxruntime and Hugging Face `tokenizers` over the installed model.onnx and
tokenizer.json, each text alone, mean-pooled over the attention mask and L2-normalised in
float64 numpy. Not part of the product: run it by hand, with its packages kept apart, e.g.

    python3 -m pip install --target /tmp/e5ref onnxruntime tokenizers numpy
    PYTHONPATH=/tmp/e5ref python3 infra/local/e5/reference_embeddings.py .tools/e5-small-v2-q
"""

import json
import sys

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

PAIRS = [
    ("how much protein should a female eat", "query",
     "As a general guideline, the CDC's average requirement of protein for women ages 19 to 70 is 46 grams per day."),
    ("how much protein should a female eat", "query",
     "Definition of summit for English Language Learners. : 1  the highest point of a mountain"),
    ("Where does my sister live?", "query", "My sister moved to Lisbon last year and loves the trams."),
    ("Where does my sister live?", "query", "The quarterly tax return is due in April."),
    ("Meeting at the café in Zürich on Friday", "passage", "東京で寿司を食べた"),
]


def main(model_dir: str) -> None:
    tokenizer = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    session = ort.InferenceSession(f"{model_dir}/model.onnx", providers=["CPUExecutionProvider"])

    def embed(text: str) -> np.ndarray:
        ids = np.array([tokenizer.encode(text).ids], dtype=np.int64)
        mask = np.ones_like(ids)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        states = session.run(None, feed)[0].astype(np.float64)
        pooled = (states * mask[..., None]).sum(1)[0] / mask.sum()
        return pooled / np.linalg.norm(pooled)

    print(f"# onnxruntime {ort.__version__}")
    for text, kind, passage in PAIRS:
        cosine = float(embed(f"{kind}: {text}") @ embed(f"passage: {passage}"))
        print(json.dumps([text, kind, passage, round(cosine, 6)], ensure_ascii=False))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else ".tools/e5-small-v2-q")
