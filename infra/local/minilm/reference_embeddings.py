"""An independent reference for the ONNX model: BERT tokenisation and the
all-MiniLM-L6-v2 forward pass written directly in numpy (float64), from the
same safetensors weights, with none of the graph's rewrites (fused QKV, folded
scale and token type). The integration test's expected similarities come from it.

Usage: reference_embeddings.py SOURCE_DIR 'text a' 'text b' [...]
  Prints JSON: the token ids of each text and the cosine similarity of each
  consecutive pair (a·b, c·d, ...).
SOURCE_DIR holds model.safetensors, config.json and tokenizer.json.
"""

import json
import math
import sys
import unicodedata
from pathlib import Path

import numpy as np

from convert_to_onnx import read_safetensors

MAX_TOKENS = 256


def is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def is_cjk(cp):
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0x20000 <= cp <= 0x2A6DF
        or 0x2A700 <= cp <= 0x2B73F
        or 0x2B740 <= cp <= 0x2B81F
        or 0x2B820 <= cp <= 0x2CEAF
        or 0xF900 <= cp <= 0xFAFF
        or 0x2F800 <= cp <= 0x2FA1F
    )


def basic_tokens(text):
    """BertNormalizer (clean, CJK spacing, lowercase, strip accents) and BertPreTokenizer."""
    cleaned = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or (unicodedata.category(ch).startswith("C") and ch not in "\t\n\r"):
            continue
        cleaned.append(" " if ch.isspace() else (f" {ch} " if is_cjk(cp) else ch))
    text = unicodedata.normalize("NFD", "".join(cleaned).lower())
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    tokens = []
    for word in text.split():
        current = ""
        for ch in word:
            if is_punctuation(ch):
                if current:
                    tokens.append(current)
                tokens.append(ch)
                current = ""
            else:
                current += ch
        if current:
            tokens.append(current)
    return tokens


def wordpiece(token, vocab, unk_id, max_chars=100):
    if len(token) > max_chars:
        return [unk_id]
    ids, start = [], 0
    while start < len(token):
        end, found = len(token), None
        while start < end:
            piece = ("##" if start > 0 else "") + token[start:end]
            if piece in vocab:
                found = vocab[piece]
                break
            end -= 1
        if found is None:
            return [unk_id]
        ids.append(found)
        start = end
    return ids


def encode(text, vocab):
    ids = [i for token in basic_tokens(text) for i in wordpiece(token, vocab, vocab["[UNK]"])]
    return [vocab["[CLS]"], *ids[: MAX_TOKENS - 2], vocab["[SEP]"]]


def layer_norm(x, weight, bias, eps):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def erf(x):
    return np.vectorize(math.erf)(x)


def embed(ids, w, config):
    """One unpadded sequence through embeddings, the encoder layers and mean pooling; unit length."""
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    head_dim, eps = hidden // heads, config["layer_norm_eps"]
    n = len(ids)
    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][:n]
        + w["embeddings.token_type_embeddings.weight"][0]
    )
    x = layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)

    def lin(v, name):
        return v @ w[name + ".weight"].T + w[name + ".bias"]

    def split(v):
        return v.reshape(n, heads, head_dim).transpose(1, 0, 2)

    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        q = split(lin(x, p + "attention.self.query"))
        k = split(lin(x, p + "attention.self.key"))
        v = split(lin(x, p + "attention.self.value"))
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(head_dim)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        probs = scores / scores.sum(-1, keepdims=True)
        context = (probs @ v).transpose(1, 0, 2).reshape(n, hidden)
        x = layer_norm(
            lin(context, p + "attention.output.dense") + x,
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
            eps,
        )
        h = lin(x, p + "intermediate.dense")
        h = 0.5 * h * (1 + erf(h / math.sqrt(2)))
        x = layer_norm(
            lin(h, p + "output.dense") + x,
            w[p + "output.LayerNorm.weight"],
            w[p + "output.LayerNorm.bias"],
            eps,
        )
    mean = x.mean(0)
    return mean / np.linalg.norm(mean)


def main():
    if len(sys.argv) < 4 or len(sys.argv) % 2 != 0:
        sys.exit(__doc__)
    source, texts = Path(sys.argv[1]), sys.argv[2:]
    config = json.loads((source / "config.json").read_text())
    vocab = json.loads((source / "tokenizer.json").read_text())["model"]["vocab"]
    weights = {k: v.astype(np.float64) for k, v in read_safetensors(source / "model.safetensors").items()}
    ids = [encode(text, vocab) for text in texts]
    vectors = [embed(i, weights, config) for i in ids]
    pairs = [
        {"a": texts[j], "b": texts[j + 1], "cosine": round(float(vectors[j] @ vectors[j + 1]), 6)}
        for j in range(0, len(texts), 2)
    ]
    print(json.dumps({"ids": dict(zip(texts, ids)), "pairs": pairs}, indent=2))


if __name__ == "__main__":
    main()
