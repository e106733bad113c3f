"""Builds an untrained cross-encoder of exactly MiniLM-L6 size, for speed benchmarks only (its scores mean nothing).

    /usr/bin/python3 models/tools/make_minilm_cross_encoder.py [--out models/build/minilm-ce-speed] [--seed 7] [--int8]

all-MiniLM-L6-v2 fp32 backbone + HF-style classification head (pooler dense+tanh on [CLS], linear -> 1) with seeded
random head weights; ONNX fp32 (opset 13, dynamic batch/sequence). --int8 also writes <out>-int8/ quantized with
quantize_int8.py (the same graph pattern as onnxruntime quantize_dynamic).
"""
import argparse
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minilm  # noqa: E402
import quantize_int8  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(minilm.MODELS_DIR, "build", "minilm-ce-speed"))
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--int8", action="store_true")
    args = ap.parse_args()
    onnx_path, tok_path = minilm.extract_backbone()
    ce = minilm.CrossEncoder(minilm.load_minilm(onnx_path, dropout=0.0), num_labels=1, seed=args.seed).eval()
    os.makedirs(args.out, exist_ok=True)
    minilm.export_onnx(ce, os.path.join(args.out, "model.onnx"), "logits")
    shutil.copyfile(tok_path, os.path.join(args.out, "tokenizer.json"))
    manifest = {"type": "cross_encoder", "max_length": args.max_length, "output": "logits",
                "description": "UNTRAINED MiniLM-L6 cross-encoder (random head, seed %d): speed benchmarks only."
                               % args.seed,
                "license": "Apache-2.0 (all-MiniLM-L6-v2 weights)"}
    minilm.write_manifest(args.out, manifest)
    print("wrote", args.out, os.path.getsize(os.path.join(args.out, "model.onnx")), "bytes")
    if args.int8:
        q = args.out.rstrip("/") + "-int8"
        os.makedirs(q, exist_ok=True)
        quantize_int8.quantize(os.path.join(args.out, "model.onnx"), os.path.join(q, "model.onnx"))
        shutil.copyfile(tok_path, os.path.join(q, "tokenizer.json"))
        manifest["description"] = manifest["description"].replace("cross-encoder", "cross-encoder (int8)")
        minilm.write_manifest(q, manifest)
        print("wrote", q, os.path.getsize(os.path.join(q, "model.onnx")), "bytes")


if __name__ == "__main__":
    main()
