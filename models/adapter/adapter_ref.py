#!/usr/bin/env python3
"""Reference implementation of the Cosine Adapter mapping, straight from adapter.json (models/MANIFEST.md).

    layers: x -> activation(W x + b), W as [out][in] rows; the last layer gives the raw parameters
    linear_sigmoid: (r_a, b) -> a = softplus(r_a); p = sigmoid(a * cos + b)
    power:          r_g      -> g = softplus(r_g);  p = ((cos + 1) / 2) ^ g

Everything in float64 from the float32 values stored in the file. Used for all reported numbers (the trainer evaluates
the exported file, not the torch module) and to write expected.tsv for the Java implementation:

    adapter_ref.py expected ADAPTER_DIR QUERY_EMB.f32 [--rows 8] [--out ADAPTER_DIR/expected.tsv]
"""
import argparse
import json
import os
import sys

import numpy as np

FAMILIES = ("linear_sigmoid", "power")


def softplus(x):
    x = np.asarray(x, dtype=np.float64)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def sigmoid(z):
    z = np.asarray(z, dtype=np.float64)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    e = np.exp(z[~pos])
    out[~pos] = e / (1.0 + e)
    return out


class AdapterRef:
    def __init__(self, spec):
        if spec.get("family") not in FAMILIES:
            raise ValueError(f"unknown family {spec.get('family')!r}")
        self.family = spec["family"]
        self.input_dim = int(spec["input_dim"])
        self.layers = []
        size = self.input_dim
        for i, layer in enumerate(spec["layers"]):
            w = np.asarray(layer["weight"], dtype=np.float64)
            b = np.asarray(layer["bias"], dtype=np.float64)
            act = layer.get("activation", "none")
            if w.ndim != 2 or w.shape[1] != size or b.shape != (w.shape[0],):
                raise ValueError(f"layer {i}: weight {w.shape} / bias {b.shape} do not fit input size {size}")
            if act not in ("relu", "none"):
                raise ValueError(f"layer {i}: unknown activation {act!r}")
            self.layers.append((w, b, act))
            size = w.shape[0]
        want = 2 if self.family == "linear_sigmoid" else 1
        if size != want:
            raise ValueError(f"{self.family} needs {want} outputs, the last layer has {size}")

    @classmethod
    def load(cls, path):
        if os.path.isdir(path):
            path = os.path.join(path, "adapter.json")
        with open(path) as f:
            return cls(json.load(f))

    def raw(self, q):
        """[Q, d] query embeddings -> [Q, outputs] raw parameters."""
        x = np.asarray(q, dtype=np.float64)
        single = x.ndim == 1
        x = np.atleast_2d(x)
        if x.shape[1] != self.input_dim:
            raise ValueError(f"query dimension {x.shape[1]} != input_dim {self.input_dim}")
        for w, b, act in self.layers:
            x = x @ w.T + b
            if act == "relu":
                x = np.maximum(x, 0.0)
        return x[0] if single else x

    def params(self, q):
        """Mapping parameters: columns (a, b) for linear_sigmoid, (g,) for power."""
        r = np.atleast_2d(self.raw(q))
        if self.family == "linear_sigmoid":
            return np.stack([softplus(r[:, 0]), r[:, 1]], axis=1)
        return softplus(r[:, :1])

    def probability(self, q, cos):
        """q [Q, d], cos [Q, K] (or q [d], cos [K]) -> p, same shape as cos."""
        single = np.asarray(q).ndim == 1
        prm = self.params(np.atleast_2d(q))
        c = np.asarray(cos, dtype=np.float64)
        c2 = c[None, :] if single else c
        if self.family == "linear_sigmoid":
            p = sigmoid(prm[:, :1] * c2 + prm[:, 1:2])
        else:
            p = np.clip((c2 + 1.0) / 2.0, 0.0, 1.0) ** prm[:, :1]
        return p[0] if single else p


def fmt(x):
    return repr(float(x))


def write_expected(adapter_dir, queries, out, cosines_per_query=None, note=""):
    """Rows: query (space-separated floats as given), cosine, probability, then raw outputs and mapping parameters.
    The first three columns match models/test/test-adapter*/expected.tsv."""
    ref = AdapterRef.load(adapter_dir)
    rows = []
    for i, q in enumerate(queries):
        q = np.asarray(q, dtype=np.float32)  # what Java will parse: the float32 values printed below
        cs = cosines_per_query[i] if cosines_per_query is not None else [-1.0, -0.2, 0.0, 0.3, 0.5, 0.7, 1.0]
        raw = ref.raw(q.astype(np.float64))
        prm = ref.params(q.astype(np.float64))[0]
        for c in cs:
            c = float(np.float32(c))
            p = float(ref.probability(q.astype(np.float64), np.array([c]))[0])
            rows.append("\t".join([" ".join(str(np.float32(v)) for v in q), str(np.float32(c)), fmt(p),
                                   " ".join(fmt(v) for v in np.atleast_1d(raw)), " ".join(fmt(v) for v in prm)]))
    with open(out, "w") as f:
        f.write("query\tcosine\tprobability\traw_outputs\tparams\n")
        f.write("\n".join(rows) + "\n")
    return len(rows)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("expected", help="write expected.tsv rows for an adapter")
    e.add_argument("adapter_dir")
    e.add_argument("queries_f32", help="float32 LE matrix [n, input_dim] of query embeddings (embed.sh output)")
    e.add_argument("--rows", type=int, default=8, help="queries to use (first N)")
    e.add_argument("--out")
    p = sub.add_parser("score", help="print a, b / g and p for one query row and cosines")
    p.add_argument("adapter_dir")
    p.add_argument("queries_f32")
    p.add_argument("--row", type=int, default=0)
    p.add_argument("cosines", nargs="+", type=float)
    a = ap.parse_args(argv)
    ref = AdapterRef.load(a.adapter_dir)
    q = np.fromfile(a.queries_f32, dtype="<f4").reshape(-1, ref.input_dim)
    if a.cmd == "expected":
        out = a.out or os.path.join(a.adapter_dir, "expected.tsv")
        n = write_expected(a.adapter_dir, q[: a.rows], out)
        print(f"wrote {n} rows to {out}")
    else:
        print("params", ref.params(q[a.row])[0], "p", ref.probability(q[a.row], np.array(a.cosines)))


if __name__ == "__main__":
    sys.exit(main())
