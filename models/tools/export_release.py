"""Exports a trained checkpoint to model folders: fp32 (models/build/<id>-fp32/) and int8 (models/build/<id>-int8/),
with --release f16 also float16-stored weights (models/build/<id>-f16/), and copies the chosen variant to
models/release/<id>/ (never a file over 50 MB).

    /usr/bin/python3 models/tools/export_release.py ce      models/build/minilm-ce-v1/best.pt      --id minilm-ce-v1
    /usr/bin/python3 models/tools/export_release.py colbert models/build/minilm-colbert-v1/best.pt --id minilm-colbert-v1
    /usr/bin/python3 models/tools/export_release.py ce models/release/minilm-ce-v1/model.onnx --id minilm-ce-v1-deq \
        --release none --max-length 256 --keep-fp32 'layer\.[0-9]+/out/'     (int8 weights back in fp32; see its card)

tokenizer.json is all-MiniLM-L6-v2's with its built-in truncation set to the manifest max_length and its fixed
padding (128) removed, so a tokenizer library that applies the file's own settings agrees with the manifest.
"""
import argparse
import json
import os
import shutil
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import colbert_encoding  # noqa: E402
import half_storage  # noqa: E402
import minilm  # noqa: E402
import quantize_int8  # noqa: E402
import wordpiece  # noqa: E402
from onnx_numpy import OnnxNumpy  # noqa: E402

LIMIT = 50 * 1024 * 1024


def write_tokenizer(src, dst, max_length):
    spec = json.load(open(src, encoding="utf-8"))
    spec["truncation"] = {"direction": "Right", "max_length": max_length, "strategy": "LongestFirst", "stride": 0}
    spec["padding"] = None
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(spec, f, ensure_ascii=False)


def check_ce(folder, model, tok, max_length):
    pairs = [("what causes high blood pressure", "Hypertension is often caused by a diet high in salt."),
             ("what causes high blood pressure", "The Eiffel tower is 330 metres tall."),
             ("how long do cats live", "Indoor cats typically live 12 to 18 years, outdoor cats less.")]
    enc = [tok.encode_pair(q, d, max_length) for q, d in pairs]
    ids, mask, tt = wordpiece.pad_batch([e[0] for e in enc], [e[1] for e in enc])
    with torch.no_grad():
        ref = model(torch.from_numpy(ids), torch.from_numpy(mask), torch.from_numpy(tt))[:, 0].numpy()
    got = OnnxNumpy(os.path.join(folder, "model.onnx")).run(
        {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt})[0][:, 0]
    return ref, got


def check_colbert(folder, model, enc):
    texts = ["what causes high blood pressure", "Hypertension is often caused by a diet high in salt."]
    e = [enc.query(texts[0]), enc.document(texts[1])[:2]]
    out = []
    for ids, mask in e:
        ids_t = torch.tensor([ids])
        with torch.no_grad():
            ref = model(ids_t, torch.tensor([mask]), torch.zeros_like(ids_t))[0].numpy()
        got = OnnxNumpy(os.path.join(folder, "model.onnx")).run(
            {"input_ids": np.array([ids]), "attention_mask": np.array([mask]),
             "token_type_ids": np.zeros((1, len(ids)), np.int64)})[0][0]
        out.append((ref, got))
    return out


def write_ce_expected(folder, model, tok, dest, max_length=128):
    """expected.tsv for the Java tests of a released cross-encoder: each pair alone (batch of one) with its token ids
    and the reference logit. For an int8 graph the reference is that graph run by the numpy reference executor (its
    per-batch activation scales are what the plugin gets for one pair); for fp32 and f16 graphs it is the torch model
    the graph was exported from, so the test also bounds what float16 storage costs."""
    from make_tiny_cross_encoder import PAIRS
    g = OnnxNumpy(os.path.join(folder, "model.onnx"))
    graph_is_int8 = any(n.op_type == "MatMulInteger" for n in g.model.graph.node)
    rows = ["id\tquery\tdocument\tinput_ids\ttoken_type_ids\tscore"]
    ints = lambda xs: " ".join(str(int(x)) for x in xs)  # noqa: E731
    for i, (q, d) in enumerate(PAIRS[:13]):
        ids, types = tok.encode_pair(q, d, max_length)
        feeds = {"input_ids": np.array([ids]), "attention_mask": np.ones((1, len(ids)), np.int64),
                 "token_type_ids": np.array([types])}
        if graph_is_int8:
            score = g.run(feeds)[0][0, 0]
        else:
            with torch.no_grad():
                score = model(*(torch.from_numpy(feeds[k]) for k in ("input_ids", "attention_mask",
                                                                      "token_type_ids")))[0, 0].item()
        rows.append("%d\t%s\t%s\t%s\t%s\t%.7g" % (i, q, d, ints(ids), ints(types), score))
    with open(dest, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")


def write_colbert_expected(folder, enc, dest):
    """expected.tsv for the Java tests of a released ColBERT model: each query and document run alone (batch of one,
    so int8's per-batch activation scales are those of the plugin encoding one text) through the folder's graph by
    the numpy reference executor; maxsim over normalized vectors with the skiplist applied."""
    from make_tiny_cross_encoder import PAIRS
    g = OnnxNumpy(os.path.join(folder, "model.onnx"))

    def vecs(ids, mask):
        out = g.run({"input_ids": np.array([ids]), "attention_mask": np.array([mask]),
                     "token_type_ids": np.zeros((1, len(ids)), np.int64)})[0][0]
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    rows = ["id\tquery\tdocument\tquery_ids\tdocument_ids\tdocument_kept\tmaxsim"]
    ints = lambda xs: " ".join(str(int(x)) for x in xs)  # noqa: E731
    for i, (q, d) in enumerate(PAIRS[:13]):
        qi, qm = enc.query(q)
        di, dm, keep = enc.document(d)
        score = colbert_encoding.maxsim(vecs(qi, qm), vecs(di, dm)[np.array(keep)])
        rows.append("%d\t%s\t%s\t%s\t%s\t%s\t%.7g" % (i, q, d, ints(qi), ints(di), ints(keep), score))
    with open(dest, "w", encoding="utf-8") as f:
        f.write("\n".join(rows) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["ce", "colbert"])
    ap.add_argument("ckpt", help="training checkpoint (.pt), or for a cross-encoder an exported graph (.onnx, int8 read "
                    "back to fp32: minilm.cross_encoder_state_from_onnx)")
    ap.add_argument("--id", required=True)
    ap.add_argument("--release", choices=["int8", "f16", "fp32", "none"], default="int8",
                    help="the variant copied to models/release/<id>: int8 (dynamic quantization), f16 (fp32 graph "
                    "with float16-stored weights, half_storage.py: fp32 quality at half the size), fp32")
    ap.add_argument("--max-length", type=int, default=None)
    ap.add_argument("--keep-fp32", action="append", default=[], metavar="REGEX",
                    help="MatMul node names left in fp32 in the int8 graph (quantize_int8.py --keep)")
    ap.add_argument("--smooth", type=float, metavar="ALPHA",
                    help="SmoothQuant the int8 graph (quantize_int8.py --smooth), calibrated on 16 MS MARCO dev600 "
                    "training queries with the fp32 graph")
    ap.add_argument("--calib-tsv", help="with --smooth: calibrate on these query<TAB>passage lines instead")
    ap.add_argument("--license", help="the manifest's license line and LICENSE text (default: the terms of the "
                    "build/data sources every earlier model was trained on)")
    args = ap.parse_args()
    onnx_path, tok_path = minilm.extract_backbone()
    tok = wordpiece.WordPieceTokenizer(tok_path)
    from_graph = args.ckpt.endswith(".onnx")
    if from_graph and args.kind != "ce":
        raise SystemExit("reading an exported graph back is supported for cross-encoders only")
    ck = None if from_graph else torch.load(args.ckpt, map_location="cpu")
    cfg_path = os.path.join(os.path.dirname(args.ckpt), "config.json")
    cfg = json.load(open(cfg_path)) if os.path.exists(cfg_path) else {}
    bert = minilm.load_minilm(onnx_path, dropout=0.0)
    lic = ("Research / non-commercial use only: fine-tuned from all-MiniLM-L6-v2 (Apache-2.0) on MS MARCO "
           "(non-commercial research terms), SciFact (CC BY-NC 2.0), NFCorpus (academic use), WikiQA (Microsoft "
           "Research Data License, non-commercial), TrecQA (research use). See MODEL_CARD.md.")
    lic = args.license or lic
    if args.kind == "ce":
        model = minilm.CrossEncoder(bert, 1)
        max_len = args.max_length or 512
        manifest = {"type": "cross_encoder", "max_length": max_len, "output": "logits", "logit_index": 0,
                    "description": "MiniLM-L6 cross-encoder fine-tuned offline by this project (%s); raw logit, "
                                   "higher is more relevant." % args.id, "license": lic}
        out_name = "logits"
    else:
        model = minilm.ColBERT(bert, cfg["args"]["dim"])
        m = dict(cfg["manifest"])
        if args.max_length:
            m["document_max_length"] = args.max_length
        max_len = max(m["document_max_length"], m["query_max_length"])
        manifest = {"type": "colbert", "max_length": max_len, "output": "last_hidden_state", **m,
                    "description": "MiniLM-L6 ColBERT-style late-interaction encoder fine-tuned offline by this "
                                   "project (%s); the 384->%d projection is inside the graph." % (args.id, m["dimension"]),
                    "license": lic}
        out_name = "last_hidden_state"
    model.load_state_dict(minilm.cross_encoder_state_from_onnx(args.ckpt, bert.embeddings.word_embeddings.weight)
                          if from_graph else ck["model"])
    model.eval()
    build = os.path.join(minilm.MODELS_DIR, "build")
    fp32 = os.path.join(build, args.id + "-fp32")
    int8 = os.path.join(build, args.id + "-int8")
    f16 = os.path.join(build, args.id + "-f16")
    folders = (fp32, int8, f16) if args.release == "f16" else (fp32, int8)
    for folder in folders:
        os.makedirs(folder, exist_ok=True)
        write_tokenizer(tok_path, os.path.join(folder, "tokenizer.json"), max_len)
        minilm.write_manifest(folder, manifest)
        with open(os.path.join(folder, "LICENSE"), "w") as f:
            f.write(lic + "\n")
    minilm.export_onnx(model, os.path.join(fp32, "model.onnx"), out_name)
    smooth, note = None, ""
    if args.smooth is not None:
        graph, tokenizer = os.path.join(fp32, "model.onnx"), os.path.join(fp32, "tokenizer.json")
        smooth, note = quantize_int8.smoothing_for(graph, tokenizer, args.smooth, 16, args.calib_tsv)
    quantize_int8.quantize(os.path.join(fp32, "model.onnx"), os.path.join(int8, "model.onnx"),
                           keep_fp32=args.keep_fp32, smooth=smooth, smooth_note=note)
    if args.release == "f16":
        half_storage.half_storage(os.path.join(fp32, "model.onnx"), os.path.join(f16, "model.onnx"))
    for folder in folders:
        if args.kind == "ce":
            ref, got = check_ce(folder, model, tok, 128)
            print(os.path.basename(folder), "torch", np.round(ref, 4), "onnx", np.round(got, 4))
        else:
            enc = colbert_encoding.ColbertEncoding.from_manifest(tok, manifest)
            for ref, got in check_colbert(folder, model, enc):
                c = (ref * got).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(got, axis=1)
                print(os.path.basename(folder), "token cosine torch vs onnx: min %.5f mean %.5f" % (c.min(), c.mean()))
        print(os.path.basename(folder), os.path.getsize(os.path.join(folder, "model.onnx")), "bytes")
    if args.release != "none":
        src = {"int8": int8, "f16": f16, "fp32": fp32}[args.release]
        rel = os.path.join(minilm.MODELS_DIR, "release", args.id)
        os.makedirs(rel, exist_ok=True)
        for name in ("model.onnx", "tokenizer.json", "model.json", "LICENSE"):
            p = os.path.join(src, name)
            if os.path.getsize(p) > LIMIT:
                raise SystemExit("%s is over 50 MB; not copying it to models/release" % p)
            shutil.copyfile(p, os.path.join(rel, name))
        if args.kind == "ce":
            write_ce_expected(rel, model, tok, os.path.join(rel, "expected.tsv"))
        if args.kind == "colbert":
            write_colbert_expected(rel, colbert_encoding.ColbertEncoding.from_manifest(tok, manifest),
                                   os.path.join(rel, "expected.tsv"))
        print("release folder", rel, "<-", os.path.basename(src))


if __name__ == "__main__":
    main()
