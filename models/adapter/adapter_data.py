"""Judged candidate sets for the Cosine Adapter: embeddings from embed.sh, qrels from /work/shared.

A candidate set holds, for each query, the bi-encoder's top-K documents by cosine over a corpus, with binary labels
from the qrels (unjudged = non-relevant):
    qids [Q], qemb [Q, d] float32, cos [Q, K] float32, labels [Q, K] float32, n_rel [Q] (relevant in the whole qrels)
"""
import csv
import hashlib
import json
import os

import numpy as np

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SHARED = os.environ.get("SHARED_DIR", os.path.abspath(os.path.join(ROOT, "..", "shared")))
EMB_DIR = os.path.join(ROOT, "models", "build", "adapter", "emb")

# name -> (input file relative to SHARED, embed.sh options). Queries are embedded one per inference call (--single),
# as the plugin embeds a request's query_text: the default model is int8 with dynamic (per-tensor) activation
# quantization, so a text's embedding depends slightly on what shares its batch (cosine ~0.99 batched vs alone).
# Documents are embedded in batches, as the ingest processor does.
EMBEDDINGS = {
    "scifact_queries_all": ("train/scifact_train/queries.jsonl", ["--single"]),
    "scifact_queries_test": ("data/scifact/queries.jsonl", ["--single"]),
    "trecdl19_queries": ("data/trec-dl-2019/queries.jsonl", ["--single"]),
    "msmarco600_queries": ("train/msmarco_dev600_bm25top20_tomjg14/pairs.tsv",
                           ["--format", "tsv", "--header", "--id-col", "0", "--text-col", "5", "--dedupe", "--single"]),
    "scifact_corpus": ("data/scifact/corpus.jsonl", []),
    "trecdl19_corpus": ("data/trec-dl-2019/corpus.jsonl", []),
    "msmarco600_passages": ("train/msmarco_dev600_bm25top20_tomjg14/pairs.tsv",
                            ["--format", "tsv", "--header", "--id-col", "1", "--text-col", "6", "--dedupe"]),
    "nfcorpus_queries": ("train/nfcorpus/queries_beir_raw.jsonl", ["--single"]),
    "nfcorpus_corpus": ("train/nfcorpus/corpus.jsonl", []),
}


def sha256_file(path, n=16):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:n]


def load_embeddings(name):
    base = os.path.join(EMB_DIR, name)
    ids = open(base + ".ids", encoding="utf-8").read().split("\n")
    if ids and ids[-1] == "":
        ids = ids[:-1]
    meta = json.load(open(base + ".meta.json"))
    m = np.fromfile(base + ".f32", dtype="<f4").reshape(len(ids), meta["dimension"])
    return ids, m


def read_beir_qrels(path, min_rel=1):
    rel = {}
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            parts = line.rstrip("\n").split("\t")
            if i == 0 and parts[0] == "query-id":
                continue
            q, d, s = parts[0], parts[1], int(parts[2])
            rel.setdefault(q, {})[d] = s
    return {q: {d for d, s in ds.items() if s >= min_rel} for q, ds in rel.items()}


def read_trec_qrels(path, min_rel=1):
    rel = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 4:
                continue
            q, d, s = parts[0], parts[2], int(parts[3])
            rel.setdefault(q, set())
            if s >= min_rel:
                rel[q].add(d)
    return rel


class CandidateSet:
    def __init__(self, name, qids, qemb, cos, labels, n_rel, doc_idx=None):
        self.name, self.qids, self.qemb, self.cos, self.labels, self.n_rel = name, qids, qemb, cos, labels, n_rel
        self.doc_idx = doc_idx

    def __len__(self):
        return len(self.qids)

    def subset(self, mask, name=None):
        mask = np.asarray(mask)
        return CandidateSet(name or self.name, [q for q, m in zip(self.qids, mask) if m], self.qemb[mask],
                            self.cos[mask], self.labels[mask], self.n_rel[mask],
                            None if self.doc_idx is None else self.doc_idx[mask])

    def summary(self):
        return {"queries": len(self.qids), "pairs": int(self.labels.size), "relevant_pairs": int(self.labels.sum()),
                "queries_with_relevant_candidate": int((self.labels.sum(1) > 0).sum()),
                "relevant_in_qrels": int(self.n_rel.sum())}


def top_k_candidates(name, qids, qemb, rel, doc_ids, dmat, k):
    """Top-k documents by cosine (embeddings are unit length: dot product) for each query, labelled from rel."""
    scores = qemb @ dmat.T  # [Q, N] float32, as the plugin would compute
    k = min(k, dmat.shape[0])
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, top, 1), axis=1, kind="stable")
    top = np.take_along_axis(top, order, 1)
    cos = np.take_along_axis(scores, top, 1).astype(np.float32)
    labels = np.zeros(cos.shape, dtype=np.float32)
    for i, q in enumerate(qids):
        r = rel.get(q, set())
        for j, d in enumerate(top[i]):
            if doc_ids[d] in r:
                labels[i, j] = 1.0
    n_rel = np.array([len(rel.get(q, ())) for q in qids], dtype=np.int64)
    return CandidateSet(name, list(qids), qemb, cos, labels, n_rel, top)


def _queries(emb_name, wanted):
    ids, m = load_embeddings(emb_name)
    pos = {q: i for i, q in enumerate(ids)}
    missing = [q for q in wanted if q not in pos]
    if missing:
        raise ValueError(f"{len(missing)} queries without embedding in {emb_name}, e.g. {missing[:3]}")
    return list(wanted), m[[pos[q] for q in wanted]]


def scifact(split, k=100):
    """SciFact: 'train' = the 809 train claims of scifact_train (qrels_train.tsv); 'test' = the 300 BEIR test claims."""
    if split == "train":
        rel = read_beir_qrels(os.path.join(SHARED, "train/scifact_train/qrels_train.tsv"))
        qemb_name = "scifact_queries_all"
        test_q = set(read_beir_qrels(os.path.join(SHARED, "data/scifact/qrels/test.tsv")))
        assert not (set(rel) & test_q), "SciFact train and test queries overlap"
    else:
        rel = read_beir_qrels(os.path.join(SHARED, "data/scifact/qrels/test.tsv"))
        qemb_name = "scifact_queries_test"
    qids = sorted(rel, key=lambda x: int(x))
    qids, qemb = _queries(qemb_name, qids)
    doc_ids, dmat = load_embeddings("scifact_corpus")
    return top_k_candidates(f"scifact-{split}", qids, qemb, rel, doc_ids, dmat, k)


def trec_dl19(k=100, candidates="cosine"):
    """TREC DL 2019, rel >= 2 relevant. candidates 'cosine': top-k by cosine over the 4,297-passage pool;
    'bm25': the given BM25 top-100 run (the reranking setup), cosine computed for each."""
    rel = read_beir_qrels(os.path.join(SHARED, "data/trec-dl-2019/qrels/test.tsv"), min_rel=2)
    qids_all, qemb_all = load_embeddings("trecdl19_queries")
    qids = [q for q in qids_all if q in rel]
    qids, qemb = _queries("trecdl19_queries", qids)
    doc_ids, dmat = load_embeddings("trecdl19_corpus")
    if candidates == "cosine":
        return top_k_candidates("trec-dl-2019", qids, qemb, rel, doc_ids, dmat, k)
    run = {}
    for line in open(os.path.join(SHARED, "data/trec-dl-2019/bm25_top100.trec"), encoding="utf-8"):
        q, _, d, rank, _, _ = line.split()
        run.setdefault(q, []).append((int(rank), d))
    pos = {d: i for i, d in enumerate(doc_ids)}
    kk = min(len(v) for v in run.values())
    top = np.array([[pos[d] for _, d in sorted(run[q])[:kk]] for q in qids])
    cos = np.einsum("qd,qkd->qk", qemb, dmat[top]).astype(np.float32)
    labels = np.array([[1.0 if doc_ids[d] in rel[q] else 0.0 for d in row] for q, row in zip(qids, top)], np.float32)
    n_rel = np.array([len(rel[q]) for q in qids])
    return CandidateSet("trec-dl-2019-bm25", qids, qemb, cos, labels, n_rel, top)


def msmarco600(k=100, thesis_labels=True):
    """600 MS MARCO dev queries; pool = the 11,809 distinct BM25 top-20 passages of all 600 queries; top-k by cosine
    over the pool. Labels: the official MS MARCO label; with thesis_labels, plus the thesis assessors' grade >= 3
    (1-5 scale, thesis_dataset_binary_threshold3.tsv) for its 40 queries."""
    base = os.path.join(SHARED, "train/msmarco_dev600_bm25top20_tomjg14")
    rel = {}
    with open(os.path.join(base, "pairs.tsv"), encoding="utf-8") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        for row in reader:
            rel.setdefault(row[0], set())
            if row[3] == "1":
                rel[row[0]].add(row[1])
    if thesis_labels:
        for q, d in ((p[0], p[2]) for p in (l.split() for l in open(os.path.join(base, "thesis_dataset_binary_threshold3.tsv")))
                     if int(p[3]) >= 1):
            rel.setdefault(q, set()).add(d)
    qids_all, _ = load_embeddings("msmarco600_queries")
    qids, qemb = _queries("msmarco600_queries", qids_all)
    doc_ids, dmat = load_embeddings("msmarco600_passages")
    return top_k_candidates("msmarco600", qids, qemb, rel, doc_ids, dmat, k)


def nfcorpus(split, k=100):
    """NFCorpus train or dev split (2-1-0 qrels, level >= 1 relevant, as BEIR), top-k by cosine over its 3,633 docs."""
    assert split in ("train", "dev"), "NFCorpus test stays out of this work"
    rel = read_trec_qrels(os.path.join(SHARED, f"train/nfcorpus/{split}.2-1-0.qrel"))
    qids = sorted(rel)
    qids, qemb = _queries("nfcorpus_queries", qids)
    doc_ids, dmat = load_embeddings("nfcorpus_corpus")
    return top_k_candidates(f"nfcorpus-{split}", qids, qemb, rel, doc_ids, dmat, k)


def split_queries(cs, val_fraction, seed):
    """Deterministic query split: a query is held out when a seeded hash of its id falls below val_fraction."""
    h = np.array([int(hashlib.sha256(f"{seed}:{q}".encode()).hexdigest()[:8], 16) / 2 ** 32 for q in cs.qids])
    val = h < val_fraction
    return cs.subset(~val, cs.name + ":fit"), cs.subset(val, cs.name + ":val")


def fingerprints():
    """sha256 (first 16 hex) of every input file and embedding matrix used."""
    out = {}
    for name, (rel_path, _) in EMBEDDINGS.items():
        path = os.path.join(SHARED, rel_path)
        out["input:" + rel_path] = sha256_file(path)
        f32 = os.path.join(EMB_DIR, name + ".f32")
        if os.path.exists(f32):
            out["embeddings:" + name] = sha256_file(f32)
    for rel_path in ["train/scifact_train/qrels_train.tsv", "data/scifact/qrels/test.tsv",
                     "data/trec-dl-2019/qrels/test.tsv", "data/trec-dl-2019/bm25_top100.trec",
                     "train/msmarco_dev600_bm25top20_tomjg14/thesis_dataset_binary_threshold3.tsv",
                     "train/nfcorpus/train.2-1-0.qrel", "train/nfcorpus/dev.2-1-0.qrel"]:
        out["input:" + rel_path] = sha256_file(os.path.join(SHARED, rel_path))
    return out
