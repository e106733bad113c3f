"""Stores an fp32 ONNX graph's large weights as float16 and computes in float32 (half the file, fp32 arithmetic).

    /usr/bin/python3 models/tools/half_storage.py IN.onnx OUT.onnx [--min-elements 1024] [--check TOKENIZER_JSON]

Every float32 initializer with at least --min-elements values becomes a float16 initializer followed by one
Cast(to=FLOAT) whose output takes the old name, so every consumer is unchanged. ONNX Runtime's constant folding
(on at the plugin's ALL_OPT level) turns each Cast of an initializer back into a float32 weight when the session
loads, so inference runs the fp32 graph with weights rounded to float16 (relative error <= 2^-11, far below what
dynamic int8 costs). Values beyond float16's range (65504) are refused rather than clipped. Small tensors (biases,
LayerNorm parameters, scalars) stay float32.
"""
import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import quantize_int8  # noqa: E402


def half_storage(in_path, out_path, min_elements=1024):
    model = onnx.load(in_path)
    g = model.graph
    keep, casts, n, worst = [], [], 0, 0.0
    for init in g.initializer:
        if init.data_type != TensorProto.FLOAT or int(np.prod(init.dims)) < min_elements:
            keep.append(init)
            continue
        w = numpy_helper.to_array(init)
        if np.abs(w).max() > 65504:
            raise SystemExit("%s holds values beyond float16's range" % init.name)
        h = w.astype(np.float16)
        worst = max(worst, float(np.abs(h.astype(np.float32) - w).max()))
        keep.append(numpy_helper.from_array(h, init.name + "_fp16"))
        casts.append(helper.make_node("Cast", [init.name + "_fp16"], [init.name], to=TensorProto.FLOAT,
                                      name=init.name + "_to_fp32"))
        n += 1
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    quantize_int8.save_checked(model, out_path, {
        "storage": "float16 weights (%d initializers of >= %d values), cast to float32 at load" % (n, min_elements)})
    return n, worst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--min-elements", type=int, default=1024)
    ap.add_argument("--check", metavar="TOKENIZER_JSON", help="compare outputs with the numpy reference executor")
    args = ap.parse_args()
    n, worst = half_storage(args.input, args.output, args.min_elements)
    print("%d initializers stored as float16 (largest weight change %.3g); %d -> %d bytes"
          % (n, worst, os.path.getsize(args.input), os.path.getsize(args.output)))
    if args.check:
        ya, yb, diff, _ = quantize_int8.check(args.input, args.output, args.check)
        print("fp32 vs fp16 storage: max |diff| %.4g" % diff)


if __name__ == "__main__":
    main()
