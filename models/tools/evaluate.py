"""Reranking evaluation on SciFact test (BM25 top-100 from ir.BM25) and TREC DL 2019 (given BM25 top-100 run).

    /usr/bin/python3 models/tools/evaluate.py SYSTEM [SYSTEM ...] [--collections scifact,trecdl19] [--out FILE]

SYSTEM is one of
  bm25                    the candidate order itself
  bi                      all-MiniLM-L6-v2 cosine (mean pooled, normalized; queries 64, docs 256 tokens)
  maxsim0[@LEN]           zero-shot MaxSim over raw all-MiniLM-L6-v2 token vectors (no markers, no [MASK]
                          augmentation, punctuation skiplist, normalized; document length LEN, default 180)
  ce:CKPT[@LEN]           torch cross-encoder checkpoint (best.pt from train_cross_encoder.py), pair length LEN
  colbert:CKPT[@LEN]      torch ColBERT checkpoint (best.pt from train_colbert.py), encoding from its config,
                          document length LEN when given
  onnx:FOLDER[@LEN]       a model folder (model.json + model.onnx + tokenizer.json) run by the numpy ONNX reference
                          executor: what ships, int8 included (slow)
Scores are cached per system and collection in models/build/eval/scores/, so an interrupted run resumes.
nDCG@10 uses graded gains as-is; R@100 counts rel >= 2 on TREC DL, rel >= 1 on SciFact (trec_eval conventions).
"""
import argparse
import hashlib
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import colbert_encoding  # noqa: E402
import ir  # noqa: E402
import minilm  # noqa: E402
import wordpiece  # noqa: E402

BUILD = os.path.join(minilm.MODELS_DIR, "build")
EVAL_DIR = os.path.join(BUILD, "eval")


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


# --- collections -------------------------------------------------------------------------------------
def load_collection(name):
    if name == "scifact":
        d = os.path.join(ir.DATA, "scifact")
        corpus = {k: ir.doc_text(*v) for k, v in ir.load_corpus(os.path.join(d, "corpus.jsonl")).items()}
        queries = ir.load_queries(os.path.join(d, "queries.jsonl"))
        qrels = ir.load_qrels(os.path.join(d, "qrels", "test.tsv"))
        run_path = os.path.join(BUILD, "runs", "scifact-bm25-top100.trec")
        if not os.path.exists(run_path):
            bm = ir.BM25(corpus)
            ir.write_run({q: bm.search(queries[q], 100) for q in qrels}, run_path, "bm25-k0.9-b0.4")
        run = ir.load_run(run_path)
        return {"name": name, "corpus": corpus, "queries": queries, "qrels": qrels, "run": run, "min_rel": 1}
    if name == "trecdl19":
        d = os.path.join(ir.DATA, "trec-dl-2019")
        corpus = {k: ir.doc_text(*v) for k, v in ir.load_corpus(os.path.join(d, "corpus.jsonl")).items()}
        return {"name": name, "corpus": corpus, "queries": ir.load_queries(os.path.join(d, "queries.jsonl")),
                "qrels": ir.load_qrels(os.path.join(d, "qrels", "test.tsv")),
                "run": ir.load_run(os.path.join(d, "bm25_top100.trec")), "min_rel": 2}
    raise ValueError(name)


def pairs_of(col):
    out = []
    for q in sorted(col["run"]):
        for d in col["run"][q]:
            out.append((q, d))
    return out


# --- systems -----------------------------------------------------------------------------------------
_BACKBONE = {}


def backbone():
    if "m" not in _BACKBONE:
        onnx_path, tok_path = minilm.extract_backbone()
        _BACKBONE["m"] = minilm.load_minilm(onnx_path, dropout=0.0).eval()
        _BACKBONE["tok"] = wordpiece.WordPieceTokenizer(tok_path)
    return _BACKBONE["m"], _BACKBONE["tok"]


def progress(label):
    state = {"t": time.time(), "last": 0}

    def f(done, total):
        if time.time() - state["last"] > 60 or done == total:
            state["last"] = time.time()
            log("  %s %d/%d (%.1f/s)" % (label, done, total, done / max(1e-9, time.time() - state["t"])))
    return f


def score_cross(fn_logits, tok, col, max_len, label):
    pairs = pairs_of(col)
    enc = [tok.encode_pair(col["queries"][q], col["corpus"][d], max_len) for q, d in pairs]
    res = minilm.run_batched(fn_logits, enc, max_tokens=8192, progress=progress(label))
    return {(q, d): float(r[0]) for (q, d), r in zip(pairs, res)}


def score_dense(col):
    bert, tok = backbone()
    pairs = pairs_of(col)
    qids = sorted({q for q, _ in pairs})
    dids = sorted({d for _, d in pairs})
    qe = minilm.embed_texts(bert, tok, [col["queries"][q] for q in qids], 64)
    de = minilm.embed_texts(bert, tok, [col["corpus"][d] for d in dids], 256)
    qi = {q: i for i, q in enumerate(qids)}
    di = {d: i for i, d in enumerate(dids)}
    return {(q, d): float(qe[qi[q]] @ de[di[d]]) for q, d in pairs}


def score_late(col, token_fn, enc, label):
    """token_fn(ids, mask, types) -> [b, s, dim] torch; enc: ColbertEncoding"""
    pairs = pairs_of(col)
    qids = sorted({q for q, _ in pairs})
    dids = sorted({d for _, d in pairs})
    qenc = [enc.query(col["queries"][q]) for q in qids]
    denc = [enc.document(col["corpus"][d]) for d in dids]

    def vecs(encs, keeps, lab):
        out = [None] * len(encs)
        order = minilm.batches_by_length([len(e[0]) for e in encs], 8192)
        prog = progress(lab)
        done = 0
        for idx in order:
            ids, mask = colbert_encoding.pad([encs[i][0] for i in idx], [encs[i][1] for i in idx])
            with torch.no_grad():
                h = token_fn(torch.from_numpy(ids), torch.from_numpy(mask), torch.zeros_like(torch.from_numpy(ids)))
            h = torch.nn.functional.normalize(h, dim=-1).numpy()
            for j, i in enumerate(idx):
                n = len(encs[i][0])
                v = h[j, :n]
                if keeps is not None:
                    v = v[np.array(keeps[i], dtype=bool)]
                out[i] = v.astype(np.float32)
            done += len(idx)
            prog(done, len(encs))
        return out

    qv = vecs([(e[0], e[1]) for e in qenc], None, label + " queries")
    dv = vecs([(e[0], e[1]) for e in denc], [e[2] for e in denc], label + " docs")
    qi = {q: i for i, q in enumerate(qids)}
    di = {d: i for i, d in enumerate(dids)}
    return {(q, d): colbert_encoding.maxsim(qv[qi[q]], dv[di[d]]) for q, d in pairs}


def load_ckpt_model(kind, path):
    ck = torch.load(path, map_location="cpu")
    cfg_path = os.path.join(os.path.dirname(path), "config.json")
    cfg = json.load(open(cfg_path)) if os.path.exists(cfg_path) else {}
    bert = minilm.load_minilm(minilm.extract_backbone()[0], dropout=0.0)
    if kind == "ce":
        m = minilm.CrossEncoder(bert, 1)
    else:
        m = minilm.ColBERT(bert, cfg.get("args", {}).get("dim", 128))
    m.load_state_dict(ck["model"])
    return m.eval(), cfg


def system_scores(spec, col):
    kind, _, arg = spec.partition(":")
    if kind == "bm25":
        return {(q, d): s for q in col["run"] for d, s in col["run"][q].items()}
    if kind == "bi":
        return score_dense(col)
    if kind.partition("@")[0] == "maxsim0":
        bert, tok = backbone()
        enc = colbert_encoding.ColbertEncoding(tok, None, None, 32, int(kind.partition("@")[2] or 180), False,
                                               "punctuation")
        return score_late(col, lambda i, m, t: bert(i, m, t), enc, "maxsim0")
    path, _, length = arg.partition("@")
    if kind == "ce":
        m, _ = load_ckpt_model("ce", path)
        tok = backbone()[1]
        return score_cross(lambda i, mk, t: m(i, mk, t)[:, 0], tok, col, int(length or 512), spec)
    if kind == "colbert":
        m, cfg = load_ckpt_model("colbert", path)
        tok = backbone()[1]
        man = dict(cfg.get("manifest", {}))
        if length:
            man["document_max_length"] = int(length)
        enc = colbert_encoding.ColbertEncoding.from_manifest(tok, man)
        return score_late(col, lambda i, mk, t: m(i, mk, t), enc, spec)
    if kind == "onnx":
        from onnx_numpy import OnnxNumpy
        man = json.load(open(os.path.join(path, "model.json")))
        tok = wordpiece.WordPieceTokenizer(os.path.join(path, man.get("tokenizer_file", "tokenizer.json")))
        g = OnnxNumpy(os.path.join(path, man.get("model_file", "model.onnx")))
        names = man.get("inputs", {"input_ids": "input_ids", "attention_mask": "attention_mask",
                                   "token_type_ids": "token_type_ids"})

        def run(i, mk, t):
            feeds = {names["input_ids"]: i.numpy(), names["attention_mask"]: mk.numpy()}
            if names.get("token_type_ids"):
                feeds[names["token_type_ids"]] = t.numpy()
            return torch.from_numpy(g.run(feeds)[0])

        if man["type"] == "cross_encoder":
            li = man.get("logit_index", 0)
            return score_cross(lambda i, mk, t: run(i, mk, t)[:, li], tok, col,
                               int(length or man.get("max_length", 512)), spec)
        if man["type"] == "colbert":
            enc = colbert_encoding.ColbertEncoding.from_manifest(tok, man)
            return score_late(col, run, enc, spec)
    raise ValueError("unknown system " + spec)


def cache_path(spec, col):
    kind, _, arg = spec.partition(":")
    key = spec
    path = arg.partition("@")[0]
    if path and os.path.exists(path):  # the cache follows the model file's content, not its name
        f = path if os.path.isfile(path) else os.path.join(path, "model.onnx")
        st = os.stat(f)
        key += "|%d|%d" % (st.st_size, int(st.st_mtime))
    h = hashlib.sha256(key.encode()).hexdigest()[:12]
    safe = "".join(c if c.isalnum() else "_" for c in spec)[-60:]
    return os.path.join(EVAL_DIR, "scores", "%s__%s__%s.json" % (safe, col["name"], h))


def evaluate(spec, col):
    cp = cache_path(spec, col)
    if os.path.exists(cp):
        raw = json.load(open(cp))
        scores = {tuple(k.split("\t")): v for k, v in raw.items()}
    else:
        t = time.time()
        scores = system_scores(spec, col)
        os.makedirs(os.path.dirname(cp), exist_ok=True)
        with open(cp + ".tmp", "w") as f:
            json.dump({"%s\t%s" % k: v for k, v in scores.items()}, f)
        os.replace(cp + ".tmp", cp)
        log("scored %s on %s in %.0fs" % (spec, col["name"], time.time() - t))
    run = {}
    for (q, d), s in scores.items():
        run.setdefault(q, {})[d] = s
    ndcg, per_q = ir.ndcg_at(run, col["qrels"], 10)
    rec = ir.recall_at(run, col["qrels"], 100, col["min_rel"])[0]
    return {"ndcg@10": round(ndcg, 4), "recall@100": round(rec, 4), "queries": len(per_q)}, per_q


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("systems", nargs="+")
    ap.add_argument("--collections", default="trecdl19,scifact")
    ap.add_argument("--out", default=os.path.join(EVAL_DIR, "results.jsonl"))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for cname in args.collections.split(","):
        col = load_collection(cname)
        for spec in args.systems:
            res, per_q = evaluate(spec, col)
            rec = {"system": spec, "collection": cname, **res, "time": time.strftime("%Y-%m-%d %H:%M:%S")}
            log(json.dumps(rec))
            os.makedirs(os.path.dirname(args.out), exist_ok=True)
            with open(args.out, "a") as f:
                f.write(json.dumps(rec) + "\n")


if __name__ == "__main__":
    main()
