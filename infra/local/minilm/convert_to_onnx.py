"""Writes all-MiniLM-L6-v2 (a BERT encoder in safetensors) as one ONNX graph.

No torch: the graph is built node by node with onnx.helper from the weights.
It takes `input_ids` and `attention_mask` (int64, [batch, seq]) and returns
`embeddings` (float32, [batch, 384]): the mean of the last hidden states over
the unmasked tokens, L2-normalised, as sentence-transformers computes it.
Every input is one segment, so token type 0 is folded into the position
embeddings and there is no `token_type_ids` input.

Usage: convert_to_onnx.py SOURCE_DIR OUTPUT.onnx
  SOURCE_DIR holds model.safetensors and config.json.
"""

import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 18
SAFETENSORS_DTYPES = {"F32": np.float32, "F16": np.float16, "I64": np.int64}


def read_safetensors(path):
    """Tensors of a safetensors file: 8-byte LE header length, JSON header, raw LE data."""
    data = Path(path).read_bytes()
    (header_len,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_len])
    base = 8 + header_len
    tensors = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        start, end = info["data_offsets"]
        dtype = np.dtype(SAFETENSORS_DTYPES[info["dtype"]]).newbyteorder("<")
        array = np.frombuffer(data, dtype=dtype, count=(end - start) // dtype.itemsize, offset=base + start)
        tensors[name] = array.reshape(info["shape"]).astype(dtype.newbyteorder("="))
    return tensors


class GraphBuilder:
    def __init__(self):
        self.nodes = []
        self.initializers = []
        self.count = 0

    def const(self, name, array):
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def op(self, op_type, inputs, outputs=None, **attrs):
        """Adds a node; returns its output name (or `outputs` when several are named)."""
        self.count += 1
        names = outputs or [f"{op_type.lower()}_{self.count}"]
        self.nodes.append(helper.make_node(op_type, inputs, names, name=f"n{self.count}", **attrs))
        return names if outputs and len(outputs) > 1 else names[0]

    def linear(self, x, weight, bias, name):
        """x @ weight.T + bias, with weight in PyTorch's [out, in] layout."""
        w = self.const(f"{name}.w", weight.T.astype(np.float32))
        b = self.const(f"{name}.b", bias.astype(np.float32))
        return self.op("Add", [self.op("MatMul", [x, w]), b])

    def layer_norm(self, x, weight, bias, eps, name):
        w = self.const(f"{name}.gamma", weight.astype(np.float32))
        b = self.const(f"{name}.beta", bias.astype(np.float32))
        return self.op("LayerNormalization", [x, w, b], axis=-1, epsilon=eps)


def build(tensors, config):
    hidden = config["hidden_size"]
    heads = config["num_attention_heads"]
    head_dim = hidden // heads
    eps = float(config["layer_norm_eps"])
    g = GraphBuilder()

    def t(name):
        return tensors[name]

    def add_and_norm(sublayer, residual, weights, name):
        """BERT's residual step: LayerNorm(sublayer + residual), with the LayerNorm named `weights`."""
        return g.layer_norm(
            g.op("Add", [sublayer, residual]), t(weights + ".weight"), t(weights + ".bias"), eps, name
        )

    # Embeddings: word + position + token type 0, then LayerNorm.
    word = g.const("word_embeddings", t("embeddings.word_embeddings.weight"))
    position_plus_type = (
        t("embeddings.position_embeddings.weight") + t("embeddings.token_type_embeddings.weight")[0]
    )
    positions_table = g.const("position_embeddings", position_plus_type.astype(np.float32))
    # The first seq rows of the position table. (Gathering Range(0, seq) instead matched an ORT
    # embedding fusion that emitted an invalid Slice at optimisation level 'extended'.)
    seq_len = g.op(
        "Slice",
        [
            g.op("Shape", ["input_ids"]),
            g.const("c_one_1d", np.array([1], dtype=np.int64)),
            g.const("c_two_1d", np.array([2], dtype=np.int64)),
        ],
    )
    zero_1d = g.const("c_zero_1d", np.array([0], dtype=np.int64))
    positions = g.op("Slice", [positions_table, zero_1d, seq_len, zero_1d])
    x = g.op("Add", [g.op("Gather", [word, "input_ids"], axis=0), positions])
    x = g.layer_norm(
        x, t("embeddings.LayerNorm.weight"), t("embeddings.LayerNorm.bias"), eps, "embeddings.LayerNorm"
    )

    # Additive attention mask [batch, 1, 1, seq]: 0 where attended, a large negative where padded.
    mask_f = g.op("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    inverted = g.op("Sub", [g.const("c_one_f", np.array(1.0, dtype=np.float32)), mask_f])
    additive = g.op(
        "Mul", [inverted, g.const("c_mask_neg", np.array(np.finfo(np.float32).min, dtype=np.float32))]
    )
    additive = g.op("Unsqueeze", [additive, g.const("c_mask_axes", np.array([1, 2], dtype=np.int64))])

    split_heads_shape = g.const("c_split_heads", np.array([0, 0, heads, head_dim], dtype=np.int64))
    merge_heads_shape = g.const("c_merge_heads", np.array([0, 0, hidden], dtype=np.int64))
    qkv_split = g.const("c_qkv_split", np.array([hidden, hidden, hidden], dtype=np.int64))
    sqrt2 = g.const("c_sqrt2", np.array(math.sqrt(2), dtype=np.float32))
    half = g.const("c_half", np.array(0.5, dtype=np.float32))
    one = "c_one_f"

    for i in range(config["num_hidden_layers"]):
        p = f"encoder.layer.{i}."
        # One MatMul for query, key and value; the 1/sqrt(head_dim) score scale is folded into the query.
        scale = 1 / math.sqrt(head_dim)
        qkv_w = np.concatenate(
            [
                t(p + "attention.self.query.weight") * scale,
                t(p + "attention.self.key.weight"),
                t(p + "attention.self.value.weight"),
            ]
        )
        qkv_b = np.concatenate(
            [
                t(p + "attention.self.query.bias") * scale,
                t(p + "attention.self.key.bias"),
                t(p + "attention.self.value.bias"),
            ]
        )
        qkv = g.linear(x, qkv_w, qkv_b, f"layer{i}.qkv")
        q, k, v = g.op("Split", [qkv, qkv_split], outputs=[f"layer{i}.{n}" for n in "qkv"], axis=-1)
        q = g.op("Transpose", [g.op("Reshape", [q, split_heads_shape])], perm=[0, 2, 1, 3])
        k = g.op("Transpose", [g.op("Reshape", [k, split_heads_shape])], perm=[0, 2, 3, 1])
        v = g.op("Transpose", [g.op("Reshape", [v, split_heads_shape])], perm=[0, 2, 1, 3])
        scores = g.op("Add", [g.op("MatMul", [q, k]), additive])
        probs = g.op("Softmax", [scores], axis=-1)
        context = g.op("Transpose", [g.op("MatMul", [probs, v])], perm=[0, 2, 1, 3])
        context = g.op("Reshape", [context, merge_heads_shape])
        attn = g.linear(
            context,
            t(p + "attention.output.dense.weight"),
            t(p + "attention.output.dense.bias"),
            f"layer{i}.attn_out",
        )
        x = add_and_norm(attn, x, p + "attention.output.LayerNorm", f"layer{i}.attn_ln")
        # Exact GELU, h * (1 + erf(h / sqrt(2))) * 0.5, in the form ORT fuses into BiasGelu.
        h = g.linear(
            x, t(p + "intermediate.dense.weight"), t(p + "intermediate.dense.bias"), f"layer{i}.ffn_in"
        )
        gelu = g.op(
            "Mul", [g.op("Mul", [h, g.op("Add", [g.op("Erf", [g.op("Div", [h, sqrt2])]), one])]), half]
        )
        out = g.linear(gelu, t(p + "output.dense.weight"), t(p + "output.dense.bias"), f"layer{i}.ffn_out")
        x = add_and_norm(out, x, p + "output.LayerNorm", f"layer{i}.out_ln")

    # Mean over attended tokens, then L2 normalisation.
    mask_3d = g.op("Unsqueeze", [mask_f, g.const("c_last_axis", np.array([-1], dtype=np.int64))])
    seq_axis = g.const("c_seq_axis", np.array([1], dtype=np.int64))
    summed = g.op("ReduceSum", [g.op("Mul", [x, mask_3d]), seq_axis], keepdims=0)
    counts = g.op(
        "Max",
        [
            g.op("ReduceSum", [mask_3d, seq_axis], keepdims=0),
            g.const("c_min_count", np.array(1e-9, dtype=np.float32)),
        ],
    )
    mean = g.op("Div", [summed, counts])
    norm = g.op(
        "Max",
        [
            g.op("ReduceL2", [mean, g.const("c_feature_axis", np.array([-1], dtype=np.int64))], keepdims=1),
            g.const("c_min_norm", np.array(1e-12, dtype=np.float32)),
        ],
    )
    g.op("Div", [mean, norm], outputs=["embeddings"])

    inputs = [
        helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "sequence"])
        for name in ("input_ids", "attention_mask")
    ]
    graph = helper.make_graph(
        g.nodes,
        "all-MiniLM-L6-v2",
        inputs,
        [helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", hidden])],
        g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="memory-engine"
    )
    model.ir_version = 8
    return model


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, output = Path(sys.argv[1]), Path(sys.argv[2])
    config = json.loads((source / "config.json").read_text())
    model = build(read_safetensors(source / "model.safetensors"), config)
    onnx.checker.check_model(model, full_check=True)
    output.write_bytes(model.SerializeToString())
    print(f"wrote {output} ({output.stat().st_size} bytes, opset {OPSET}, onnx {onnx.__version__})")


if __name__ == "__main__":
    main()
