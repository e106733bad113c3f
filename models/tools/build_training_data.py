"""Builds the fine-tuning groups (query, positives, BM25- and bi-encoder-mined hard negatives) and validation sets.

    /usr/bin/python3 models/tools/build_training_data.py [--out models/build/data]

Sources (all under /work/shared/train; the test collections in /work/shared/data are never read except the SciFact
corpus, whose documents serve as candidates/negatives for SciFact *train* claims):
  msmarco   MS MARCO dev600 x BM25 top-20 (Tomjg14): 1 labelled positive, 19 BM25 negatives per query; plus
            bi-encoder negatives mined from the pool of all 12K passages. The 40 queries with thesis graded labels are
            held out as validation (graded, dense judgments: the closest thing to TREC DL we may look at).
  toy       100 MS MARCO train triples (SPLADE toy data) + bi-encoder negatives from the same pool.
  scifact   SciFact train claims (qrels_train) against the SciFact corpus; 80 claims held out for validation.
  nfcorpus  NFCorpus train queries (2-1-0 qrels) against the NFCorpus corpus; dev queries are validation.
  wikiqa, trecqa  answer sentence selection (train splits; candidates from the same page = natural hard negatives).
Every candidate carries its bi-encoder (all-MiniLM-L6-v2) cosine, used for de-noising and as a distillation target.
Negatives the bi-encoder scores above the positive are dropped for msmarco/toy (MS MARCO labels are sparse: the
thesis re-judging found about 5 relevant passages per query among BM25's top 20).
"""
import argparse
import json
import os
import random
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ir  # noqa: E402
import minilm  # noqa: E402
import wordpiece  # noqa: E402

SEED = 13
N_BM25, N_BI = 30, 30


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


class BiEncoder:
    """all-MiniLM-L6-v2 with an on-disk cache of embeddings keyed by text."""

    def __init__(self, cache_dir):
        import torch
        torch.set_num_threads(2)
        onnx_path, tok_path = minilm.extract_backbone()
        self.bert = minilm.load_minilm(onnx_path, dropout=0.0).eval()
        self.tok = wordpiece.WordPieceTokenizer(tok_path)
        self.cache_dir = cache_dir

    def embed(self, name, texts, max_length):
        import hashlib
        key = hashlib.sha256(("%d\n" % max_length + "\n".join(texts)).encode()).hexdigest()[:16]
        path = os.path.join(self.cache_dir, "emb_%s_%s.npy" % (name, key))
        if os.path.exists(path):
            return np.load(path)
        t = time.time()
        e = minilm.embed_texts(self.bert, self.tok, texts, max_length)
        os.makedirs(self.cache_dir, exist_ok=True)
        np.save(path, e)
        log("embedded %d %s texts in %.0fs" % (len(texts), name, time.time() - t))
        return e


def mine_corpus(name, queries, qrels, corpus, bi, bm25=None, k_bm=N_BM25, k_bi=N_BI):
    """queries {qid: text}; corpus {docid: text}; returns {qid: {'bm25': [docids], 'bi': [docids], 'bi_score': {}}}"""
    if bm25 is None:
        bm25 = ir.BM25(corpus)
    ids = list(corpus)
    demb = bi.embed(name + "-docs", [corpus[d] for d in ids], 256)
    qids = list(queries)
    qemb = bi.embed(name + "-queries", [queries[q] for q in qids], 64)
    sims = qemb @ demb.T
    out = {}
    for i, q in enumerate(qids):
        judged = qrels.get(q, {})
        bm = [d for d in bm25.search(queries[q], k_bm + len(judged)) if d not in judged][:k_bm]
        top = np.argsort(-sims[i])[: k_bi + len(judged)]
        bis = [ids[j] for j in top if ids[j] not in judged][:k_bi]
        out[q] = {"bm25": bm, "bi": bis, "sim_row": i}
    return out, sims, {d: j for j, d in enumerate(ids)}, qids


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(minilm.MODELS_DIR, "build", "data"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    rng = random.Random(SEED)
    bi = BiEncoder(os.path.join(args.out, "cache"))
    T = ir.TRAIN
    inputs = []
    groups, val = [], {}

    def add_input(p):
        inputs.append(p)
        return p

    # ---------------- msmarco dev600 + toy ------------------------------------------------------------
    mm = os.path.join(T, "msmarco_dev600_bm25top20_tomjg14")
    rows = []
    with open(add_input(os.path.join(mm, "pairs.tsv")), encoding="utf-8") as f:
        next(f)
        for line in f:
            qid, pid, rank, label, bucket, q, p = line.rstrip("\n").split("\t")
            rows.append((qid, pid, int(rank), int(label), ir.fix_mojibake(q), ir.fix_mojibake(p)))
    graded = {}
    with open(add_input(os.path.join(mm, "thesis_dataset_graded_relevance.tsv"))) as f:
        for line in f:
            q, p, g = line.split()
            graded.setdefault(q, {})[p] = int(g)
    toy = []
    with open(add_input(os.path.join(T, "splade_toy_msmarco", "triplets_raw.tsv")), encoding="utf-8") as f:
        for line in f:
            q, pos, neg = line.rstrip("\n").split("\t")
            toy.append((ir.fix_mojibake(q), ir.fix_mojibake(pos), ir.fix_mojibake(neg)))
    trec_q = set(ir.load_queries(os.path.join(ir.DATA, "trec-dl-2019", "queries.jsonl")).values())
    pool = {}
    for qid, pid, rank, label, q, p in rows:
        pool[pid] = p
    for i, (q, pos, neg) in enumerate(toy):
        pool.setdefault("toy-pos-%d" % i, pos)
        pool.setdefault("toy-neg-%d" % i, neg)
    pids = list(pool)
    pemb = bi.embed("msmarco-pool", [pool[p] for p in pids], 256)
    by_q = {}
    for qid, pid, rank, label, q, p in rows:
        by_q.setdefault(qid, {"q": q, "c": []})["c"].append((pid, rank, label))
    qids = sorted(by_q)
    qemb = bi.embed("msmarco-queries", [by_q[q]["q"] for q in qids], 64)
    toy_qemb = bi.embed("toy-queries", [t[0] for t in toy], 64)
    pidx = {p: i for i, p in enumerate(pids)}
    n_dropped = 0
    assert not trec_q.intersection(by_q[q]["q"] for q in qids), "TREC DL query in training data"
    for i, qid in enumerate(qids):
        info = by_q[qid]
        sims = pemb @ qemb[i]
        if qid in graded:  # validation: 20 candidates, thesis grades (1-5) -> gain grade-1
            val.setdefault("msmarco-graded", []).append({
                "qid": qid, "q": info["q"],
                "cands": [[pid, pool[pid], float(sims[pidx[pid]])] for pid, _, _ in info["c"]],
                "rels": {pid: graded[qid].get(pid, 1) - 1 for pid, _, _ in info["c"]}})
            continue
        posl = [pid for pid, _, label in info["c"] if label > 0]
        if not posl:
            continue
        pos_sim = float(sims[pidx[posl[0]]])
        own = {pid for pid, _, _ in info["c"]}
        bm_negs = [pid for pid, _, label in sorted(info["c"], key=lambda x: x[1]) if label == 0]
        order = np.argsort(-sims)
        bi_negs = [pids[j] for j in order[:60] if pids[j] not in own][:15]
        negs = []
        for how, lst in (("bm25", bm_negs), ("bi", bi_negs)):
            for pid in lst:
                s = float(sims[pidx[pid]])
                if s >= pos_sim:  # likely an unlabelled relevant passage
                    n_dropped += 1
                    continue
                negs.append([pool[pid], how, s])
        groups.append({"src": "msmarco", "qid": qid, "q": info["q"], "pos": [[pool[posl[0]], 1, pos_sim]],
                       "neg": negs})
    for i, (q, pos, neg) in enumerate(toy):
        if q in trec_q:
            continue
        sims = pemb @ toy_qemb[i]
        pos_sim = float(sims[pidx["toy-pos-%d" % i]])
        negs = []
        cand = [("toy-neg-%d" % i, "bm25")] + [(pids[j], "bi") for j in np.argsort(-sims)[:20]
                                             if pids[j] not in ("toy-pos-%d" % i, "toy-neg-%d" % i)][:15]
        for pid, how in cand:
            s = float(sims[pidx[pid]])
            if s >= pos_sim:
                n_dropped += 1
                continue
            negs.append([pool[pid], how, s])
        groups.append({"src": "toy", "qid": "toy-%d" % i, "q": q, "pos": [[pos, 1, pos_sim]], "neg": negs})
    log("msmarco+toy groups: %d (negatives dropped as likely relevant: %d)" % (len(groups), n_dropped))

    # ---------------- scifact train ------------------------------------------------------------------
    sf_corpus_raw = ir.load_corpus(add_input(os.path.join(ir.DATA, "scifact", "corpus.jsonl")))
    sf_corpus = {d: ir.doc_text(*v) for d, v in sf_corpus_raw.items()}
    sf_q_all = ir.load_queries(add_input(os.path.join(T, "scifact_train", "queries.jsonl")))
    sf_qrels = ir.load_qrels(add_input(os.path.join(T, "scifact_train", "qrels_train.tsv")))
    sf_test_q = set(ir.load_queries(os.path.join(ir.DATA, "scifact", "queries.jsonl")))
    assert not sf_test_q.intersection(sf_qrels), "SciFact test claim in train qrels"
    sf_q = {q: sf_q_all[q] for q in sf_qrels}
    sf_ids = sorted(sf_q, key=int)
    rng.shuffle(sf_ids)
    sf_val = set(sf_ids[:80])
    sf_bm = ir.BM25(sf_corpus)
    mined, sims, didx, qlist = mine_corpus("scifact", sf_q, sf_qrels, sf_corpus, bi, sf_bm)
    n0 = len(groups)
    for q in sorted(sf_q, key=int):
        row = sims[mined[q]["sim_row"]]
        if q in sf_val:
            cands = list(sf_bm.search(sf_q[q], 30))
            val.setdefault("scifact-heldout", []).append({
                "qid": q, "q": sf_q[q], "cands": [[d, sf_corpus[d], float(row[didx[d]])] for d in cands],
                "rels": {d: r for d, r in sf_qrels[q].items()}})
            continue
        pos = [[sf_corpus[d], 1, float(row[didx[d]])] for d in sf_qrels[q] if d in sf_corpus]
        negs = [[sf_corpus[d], how, float(row[didx[d]])] for how in ("bm25", "bi") for d in mined[q][how]]
        groups.append({"src": "scifact", "qid": q, "q": sf_q[q], "pos": pos, "neg": negs})
    log("scifact groups: %d, held out %d" % (len(groups) - n0, len(sf_val)))

    # ---------------- nfcorpus -----------------------------------------------------------------------
    nf = os.path.join(T, "nfcorpus")
    nf_corpus = {d: ir.doc_text(*v) for d, v in ir.load_corpus(add_input(os.path.join(nf, "corpus.jsonl"))).items()}
    nf_q_all = ir.load_queries(add_input(os.path.join(nf, "queries_beir_raw.jsonl")))
    nf_train = ir.load_qrels(add_input(os.path.join(nf, "train.2-1-0.qrel")))
    nf_dev = ir.load_qrels(add_input(os.path.join(nf, "dev.2-1-0.qrel")))
    nf_bm = ir.BM25(nf_corpus)
    nf_q = {q: nf_q_all[q] for q in list(nf_train) + list(nf_dev)}
    mined, sims, didx, qlist = mine_corpus("nfcorpus", nf_q, {**nf_train, **nf_dev}, nf_corpus, bi, nf_bm)
    n0 = len(groups)
    for q in sorted(nf_train):
        row = sims[mined[q]["sim_row"]]
        rel = {d: r for d, r in nf_train[q].items() if d in nf_corpus and r > 0}
        if not rel:
            continue
        # keep at most 8 positives per query, direct (2) links first, then the bi-encoder's favourites
        pos_ids = sorted(rel, key=lambda d: (-rel[d], -row[didx[d]]))[:8]
        pos = [[nf_corpus[d], rel[d], float(row[didx[d]])] for d in pos_ids]
        negs = [[nf_corpus[d], how, float(row[didx[d]])] for how in ("bm25", "bi") for d in mined[q][how]]
        groups.append({"src": "nfcorpus", "qid": q, "q": nf_q[q], "pos": pos, "neg": negs})
    dev_ids = sorted(nf_dev)
    rng.shuffle(dev_ids)
    for q in sorted(dev_ids[:100]):
        row = sims[mined[q]["sim_row"]]
        cands = list(nf_bm.search(nf_q[q], 30))
        val.setdefault("nfcorpus-dev", []).append({
            "qid": q, "q": nf_q[q], "cands": [[d, nf_corpus[d], float(row[didx[d]])] for d in cands],
            "rels": nf_dev[q]})
    log("nfcorpus groups: %d" % (len(groups) - n0))

    # ---------------- wikiqa / trecqa ----------------------------------------------------------------
    for src, path in (("wikiqa", os.path.join(T, "wikiqa", "train_pairs.tsv")),
                      ("trecqa", os.path.join(T, "trecqa", "train_pairs.tsv"))):
        by = {}
        with open(add_input(path), encoding="utf-8") as f:
            for line in f:
                p = line.rstrip("\n").split("\t")
                if len(p) != 4:
                    continue
                qid, q, s, lab = p
                by.setdefault(qid, {"q": q, "pos": [], "neg": []})["pos" if float(lab) > 0 else "neg"].append(s)
        items = [(k, v) for k, v in sorted(by.items()) if v["pos"] and v["neg"]]
        texts = sorted({s for _, v in items for s in v["pos"] + v["neg"]})
        temb = bi.embed(src + "-sents", texts, 128)
        tidx = {s: i for i, s in enumerate(texts)}
        qemb = bi.embed(src + "-queries", [v["q"] for _, v in items], 64)
        for i, (qid, v) in enumerate(items):
            sim = lambda s: float(temb[tidx[s]] @ qemb[i])  # noqa: E731
            groups.append({"src": src, "qid": qid, "q": v["q"], "pos": [[s, 1, sim(s)] for s in v["pos"]],
                           "neg": [[s, "given", sim(s)] for s in v["neg"]]})
        log("%s groups: %d" % (src, len(items)))

    with open(os.path.join(args.out, "train_groups.jsonl"), "w", encoding="utf-8") as f:
        for g in groups:
            f.write(json.dumps(g, ensure_ascii=False) + "\n")
    for name, items in val.items():
        with open(os.path.join(args.out, "val_%s.jsonl" % name), "w", encoding="utf-8") as f:
            for it in items:
                f.write(json.dumps(it, ensure_ascii=False) + "\n")
    from collections import Counter
    fp = {"seed": SEED, "inputs": {os.path.relpath(p, ir.SHARED): minilm.sha256_file(p) for p in inputs},
          "backbone_sha256": minilm.sha256_file(minilm.extract_backbone()[0]),
          "groups": dict(Counter(g["src"] for g in groups)), "validation": {k: len(v) for k, v in val.items()},
          "train_groups_sha256": minilm.sha256_file(os.path.join(args.out, "train_groups.jsonl"))}
    with open(os.path.join(args.out, "fingerprints.json"), "w") as f:
        json.dump(fp, f, indent=2)
    log("done", json.dumps(fp["groups"]), json.dumps(fp["validation"]))


if __name__ == "__main__":
    main()
