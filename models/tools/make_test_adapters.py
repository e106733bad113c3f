#!/usr/bin/env python3
"""Writes small, seeded Cosine Adapter folders for the plugin's tests (models/test/test-adapter*).

The weights are random but fixed; what matters is that the Java runtime maps (query embedding, cosine) exactly as
this reference does. expected.tsv rows: query embedding (space separated), cosine, expected probability.
"""
import json
import math
import os
import random

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test")


def softplus(x):
    return max(x, 0.0) + math.log1p(math.exp(-abs(x)))


def forward(layers, x):
    for layer in layers:
        y = []
        for row, b in zip(layer["weight"], layer["bias"]):
            s = b + sum(w * v for w, v in zip(row, x))
            y.append(max(0.0, s) if layer["activation"] == "relu" else s)
        x = y
    return x


def mapping(family, out, cos):
    if family == "linear_sigmoid":
        a, b = softplus(out[0]), out[1]
        return 1.0 / (1.0 + math.exp(-(a * cos + b)))
    g = softplus(out[0])
    return min(1.0, max(0.0, (cos + 1.0) / 2.0)) ** g


def write(name, family, embedding_model, dim, hidden, seed, bias_out):
    rnd = random.Random(seed)
    layers = []
    size_in = dim
    if hidden:
        layers.append({"weight": [[round(rnd.gauss(0, 0.05), 6) for _ in range(size_in)] for _ in range(hidden)],
                       "bias": [round(rnd.gauss(0, 0.05), 6) for _ in range(hidden)], "activation": "relu"})
        size_in = hidden
    outputs = 2 if family == "linear_sigmoid" else 1
    layers.append({"weight": [[round(rnd.gauss(0, 0.05), 6) for _ in range(size_in)] for _ in range(outputs)],
                   "bias": bias_out, "activation": "none"})
    folder = os.path.join(ROOT, name)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "adapter.json"), "w") as f:
        json.dump({"family": family, "input_dim": dim, "layers": layers}, f)
    with open(os.path.join(folder, "model.json"), "w") as f:
        json.dump({"type": "cosine_adapter", "embedding_model": embedding_model, "family": family, "dimension": dim,
                   "description": "Seeded random Cosine Adapter for tests (calibration is meaningless).",
                   "license": "Apache-2.0"}, f, indent=2)
    with open(os.path.join(folder, "expected.tsv"), "w") as f:
        f.write("query\tcosine\tprobability\n")
        for i in range(8):
            q = [rnd.gauss(0, 1) for _ in range(dim)]
            n = math.sqrt(sum(v * v for v in q))
            q = [round(v / n, 6) for v in q]
            cos = round(rnd.uniform(-0.5, 1.0), 6)
            p = mapping(family, forward(layers, q), cos)
            f.write(" ".join(str(v) for v in q) + "\t" + str(cos) + "\t" + repr(p) + "\n")


if __name__ == "__main__":
    # about sigmoid(12 * cos - 6): relevant above cos ~0.5 for any query, with query-dependent shifts
    write("test-adapter", "linear_sigmoid", "all-minilm-l6-v2", 384, 8, 7, [12.0, -6.0])
    write("test-adapter-power", "power", "all-minilm-l6-v2", 384, 0, 8, [1.5])
    write("test-adapter-tiny-bi", "linear_sigmoid", "tiny-bi", 16, 0, 9, [1.0, 0.0])
