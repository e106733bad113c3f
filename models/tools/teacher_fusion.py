"""Chooses the distillation teacher's fusion weight on training data: zero-shot MaxSim + A * bi-encoder cosine.

    /usr/bin/python3 models/tools/teacher_fusion.py [--out results/models-eval/teacher-fusion/dev600.json]

Scores every MS MARCO dev600 query that has a labelled positive (540 of 600; their BM25 top-20 passages, the
official binary label) with the untouched all-MiniLM-L6-v2 twice: bi-encoder cosine (mean pooled, queries 64,
passages 256 tokens) and zero-shot MaxSim (384 dims, no markers, punctuation skiplist, passages 180 tokens), then
reports MRR@10 and nDCG@10 of BM25, of each alone and of their sum for a grid of weights A. These are training
queries (500 of them train the models, 40 validate them), never TREC DL or SciFact test queries, so the weight is
picked without looking at an evaluation set. The training groups themselves cannot be used for this: their
bi-encoder negatives were mined below the positive, which makes the bi-encoder look perfect there.
Scores are cached in models/build/eval/teacher-fusion-dev600.json (about 25 minutes on 2 cores to compute).
"""
import argparse
import csv
import json
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ir  # noqa: E402
import minilm  # noqa: E402
import trainlib  # noqa: E402
import wordpiece  # noqa: E402

PAIRS = os.path.join(ir.TRAIN, "msmarco_dev600_bm25top20_tomjg14", "pairs.tsv")
CACHE = os.path.join(minilm.MODELS_DIR, "build", "eval", "teacher-fusion-dev600.json")
WEIGHTS = (0, 2, 3, 5, 10, 20, 30, 40, 60, 100)


def load_dev600():
    """{query_id: [pairs.tsv rows]}: each dev600 query's BM25 top 20 with its official binary label."""
    csv.field_size_limit(1 << 30)
    by_query = {}
    with open(PAIRS, encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            by_query.setdefault(r["query_id"], []).append(r)
    return by_query


def score_all():
    torch.set_num_threads(2)
    onnx_path, tok_path = minilm.extract_backbone()
    tok = wordpiece.WordPieceTokenizer(tok_path)
    bert = minilm.load_minilm(onnx_path, dropout=0.0).eval()
    zs = trainlib.zero_shot_maxsim(lambda ids, mask: bert(ids, mask, torch.zeros_like(ids)), tok, 180)
    by_query = load_dev600()
    qids = [q for q in by_query if any(int(r["msmarco_label"]) > 0 for r in by_query[q])]
    with torch.no_grad():
        qe = minilm.embed_texts(bert, tok, [by_query[q][0]["query"] for q in qids], 64)
    out = []
    for i, q in enumerate(qids):
        rows = by_query[q]
        texts = [r["passage"] for r in rows]
        with torch.no_grad():
            de = minilm.embed_texts(bert, tok, texts, 256)
        out.append({"qid": q, "lab": [int(r["msmarco_label"]) for r in rows], "bi": [float(x) for x in de @ qe[i]],
                    "zs": zs(rows[0]["query"], texts), "bm25": [-int(r["bm25_rank"]) for r in rows]})
        if i % 50 == 0:
            print("%d/%d" % (i, len(qids)), flush=True)
    return out


def metrics(items, fn):
    """MRR@10 and nDCG@10 (ir's trec_eval-style measures) of the candidate order by fn(item) -> scores."""
    run = {g["qid"]: {str(j): float(x) for j, x in enumerate(fn(g))} for g in items}
    qrels = {g["qid"]: {str(j): r for j, r in enumerate(g["lab"]) if r > 0} for g in items}
    return {"mrr@10": round(ir.mrr_at(run, qrels, 10), 4), "ndcg@10": round(ir.ndcg_at(run, qrels, 10)[0], 4)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if os.path.exists(CACHE):
        items = json.load(open(CACHE))
    else:
        items = score_all()
        os.makedirs(os.path.dirname(CACHE), exist_ok=True)
        with open(CACHE, "w") as f:
            json.dump(items, f)
    res = {"queries": len(items), "bm25": metrics(items, lambda g: g["bm25"]),
           "bi-encoder": metrics(items, lambda g: g["bi"])}
    for a in WEIGHTS:
        res["zero-shot MaxSim + %g * bi" % a] = metrics(items, lambda g: np.asarray(g["zs"]) + a * np.asarray(g["bi"]))
    for k, v in res.items():
        print(k, v)
    if args.out:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(res, f, indent=2)


if __name__ == "__main__":
    main()
