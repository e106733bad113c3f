"""Uniform (or weighted) weight average of exported models fine-tuned from one starting point ("model soup",
Wortsman et al., ICML 2022), or an extrapolation past the last of them (negative weights), written as a training checkpoint that export_release.py turns into fp32 and int8 graphs.

    /usr/bin/python3 models/tools/soup.py {ce|colbert} OUT_DIR GRAPH.onnx GRAPH.onnx ... [--weights 0.5,0.5]
    /usr/bin/python3 models/tools/export_release.py {ce|colbert} OUT_DIR/best.pt --id ID --release none

Graphs are read back with minilm.read_onnx_state (int8 graphs dequantized). Tensors our training freezes are taken
from the fp32 backbone instead of averaged copies of their int8 rounding: the word embeddings of a cross-encoder, and
for a ColBERT encoder the embeddings and every layer below the trained top (tensors identical in all inputs, so
frozen in all of them). Inputs must share the architecture and (for a meaningful soup) the starting point.
"""
import argparse
import json
import os

import numpy as np
import torch

import minilm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["ce", "colbert"])
    ap.add_argument("out")
    ap.add_argument("graphs", nargs="+")
    ap.add_argument("--weights", help="comma-separated, one per graph (normalized to sum 1); default uniform. A "
                    "negative weight extrapolates: --weights=-0.5,1.5 is B + 0.5 (B - A) (ExPO, Zheng et al. 2024)")
    args = ap.parse_args()
    if len(args.graphs) < 2:
        raise SystemExit("a soup needs at least two graphs")
    w = [float(x) for x in args.weights.split(",")] if args.weights else [1.0] * len(args.graphs)
    if len(w) != len(args.graphs) or sum(w) <= 0:
        raise SystemExit("--weights: one weight per graph, with a positive sum")
    w = [x / sum(w) for x in w]
    states = [minilm.read_onnx_state(g) for g in args.graphs]
    names = set(states[0])
    for g, st in zip(args.graphs, states):
        if set(st) != names:
            raise SystemExit("%s differs in tensors: %s" % (g, sorted(set(st) ^ names)[:5]))
        for k in names:
            if st[k].shape != states[0][k].shape:
                raise SystemExit("%s: %s has shape %s, not %s" % (g, k, st[k].shape, states[0][k].shape))
    backbone = {"bert." + k: v.detach().numpy() for k, v in minilm.load_minilm(dropout=0.0).state_dict().items()}
    soup, from_backbone = {}, []
    for k in sorted(names):
        frozen = k == "bert.embeddings.word_embeddings.weight" or (
            args.kind == "colbert" and k in backbone and all(np.array_equal(st[k], states[0][k]) for st in states))
        if frozen:
            soup[k] = backbone[k]
            from_backbone.append(k)
        else:
            soup[k] = sum(wi * st[k].astype(np.float64) for wi, st in zip(w, states)).astype(np.float32)
    os.makedirs(args.out, exist_ok=True)
    info = {"graphs": [os.path.relpath(os.path.abspath(g), minilm.MODELS_DIR) for g in args.graphs],
            "graphs_sha256": [minilm.sha256_file(g) for g in args.graphs], "weights": w}
    torch.save({"model": {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in soup.items()}, "soup": info},
               os.path.join(args.out, "best.pt"))
    if args.kind == "colbert":  # export_release.py reads the encoding settings from config.json
        m = json.load(open(os.path.join(os.path.dirname(args.graphs[0]), "model.json")))
        keep = ("query_marker", "document_marker", "query_max_length", "document_max_length", "query_augmentation",
                "skiplist", "normalize", "dimension")
        with open(os.path.join(args.out, "config.json"), "w") as f:
            json.dump({"args": {"dim": soup["proj.weight"].shape[0]}, "manifest": {k: m[k] for k in keep},
                       "soup": info}, f, indent=1)
    print(json.dumps({"out": os.path.join(args.out, "best.pt"), "weights": w, "averaged": len(soup) - len(from_backbone),
                      "from_backbone": len(from_backbone)}))


if __name__ == "__main__":
    main()
