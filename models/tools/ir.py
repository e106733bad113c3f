"""Retrieval utilities: data loading, a Lucene-EnglishAnalyzer-like analyzer, BM25, trec_eval-style metrics."""
import gzip
import json
import math
import os
import re
from collections import Counter, defaultdict

import numpy as np

SHARED = os.environ.get("RESCORE_SHARED", "/work/shared")
DATA = os.path.join(SHARED, "data")
TRAIN = os.path.join(SHARED, "train")


# --- loading -----------------------------------------------------------------------------------------
def fix_mojibake(s):
    """MS MARCO text often holds UTF-8 decoded as cp1252/latin-1 ('donÃ¢Â€Â™t'); undo up to twice."""
    for _ in range(2):
        if not any(c in s for c in "ÃÂâ"):
            break
        for enc in ("cp1252", "latin-1"):
            try:
                s = s.encode(enc).decode("utf-8")
                break
            except (UnicodeEncodeError, UnicodeDecodeError):
                continue
        else:
            break
    return s


def read_jsonl(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def load_corpus(path):
    """{doc_id: (title, text)}"""
    return {d["_id"]: (d.get("title") or "", d.get("text") or "") for d in read_jsonl(path)}


def load_queries(path):
    return {q["_id"]: q["text"] for q in read_jsonl(path)}


def load_qrels(path):
    """BEIR tsv (with header) or TREC 'qid 0 docid rel' -> {qid: {docid: rel}}"""
    qrels = defaultdict(dict)
    with open(path, encoding="utf-8") as f:
        for line in f:
            p = line.split()
            if not p or p[0] in ("query-id", "qid", "query_id"):
                continue
            if len(p) == 4:
                q, d, r = p[0], p[2], p[3]
            else:
                q, d, r = p[0], p[1], p[2]
            qrels[q][d] = int(float(r))
    return dict(qrels)


def load_run(path):
    run = defaultdict(dict)
    with open(path) as f:
        for line in f:
            q, _, d, _, s, _ = line.split()
            run[q][d] = float(s)
    return dict(run)


def write_run(run, path, tag):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        for q in sorted(run):
            ranked = sorted(run[q].items(), key=lambda x: (-x[1], x[0]))
            for i, (d, s) in enumerate(ranked):
                f.write("%s Q0 %s %d %.6f %s\n" % (q, d, i + 1, s, tag))


def doc_text(title, text):
    return (title + " " + text).strip() if title else text


# --- analyzer ----------------------------------------------------------------------------------------
STOP = set("a an and are as at be but by for if in into is it no not of on or such that the their then there these "
           "they this to was will with".split())
_TOKEN = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*|\d+(?:[.,]\d+)+", re.UNICODE)


class PorterStemmer:
    """Martin Porter's original algorithm (as Lucene's PorterStemFilter)."""

    def __init__(self):
        self.cache = {}

    @staticmethod
    def _cons(w, i):
        c = w[i]
        if c in "aeiou":
            return False
        if c == "y":
            return i == 0 or not PorterStemmer._cons(w, i - 1)
        return True

    def _m(self, w, j):
        # number of VC sequences in w[0..j]
        n, i = 0, 0
        while True:
            if i > j:
                return n
            if not self._cons(w, i):
                break
            i += 1
        i += 1
        while True:
            while True:
                if i > j:
                    return n
                if self._cons(w, i):
                    break
                i += 1
            i += 1
            n += 1
            while True:
                if i > j:
                    return n
                if not self._cons(w, i):
                    break
                i += 1
            i += 1

    def _vowel_in(self, w, j):
        return any(not self._cons(w, i) for i in range(j + 1))

    def _doublec(self, w, j):
        return j >= 1 and w[j] == w[j - 1] and self._cons(w, j)

    def _cvc(self, w, i):
        if i < 2 or not self._cons(w, i) or self._cons(w, i - 1) or not self._cons(w, i - 2):
            return False
        return w[i] not in "wxy"

    def _ends(self, w, s):
        return w.endswith(s)

    def _r(self, w, s, rep):
        j = len(w) - len(s) - 1
        if self._m(w, j) > 0:
            return w[: j + 1] + rep
        return w

    def stem(self, w):
        if len(w) <= 2:
            return w
        hit = self.cache.get(w)
        if hit is not None:
            return hit
        orig = w
        # step 1ab
        if w.endswith("s"):
            if w.endswith("sses"):
                w = w[:-2]
            elif w.endswith("ies"):
                w = w[:-2]
            elif not w.endswith("ss"):
                w = w[:-1]
        if w.endswith("eed"):
            if self._m(w, len(w) - 4) > 0:
                w = w[:-1]
        elif (w.endswith("ed") and self._vowel_in(w, len(w) - 3)) or (w.endswith("ing") and self._vowel_in(w, len(w) - 4)):
            w = w[:-2] if w.endswith("ed") else w[:-3]
            if w.endswith("at") or w.endswith("bl") or w.endswith("iz"):
                w += "e"
            elif self._doublec(w, len(w) - 1):
                if w[-1] not in "lsz":
                    w = w[:-1]
            elif self._m(w, len(w) - 1) == 1 and self._cvc(w, len(w) - 1):
                w += "e"
        # step 1c
        if w.endswith("y") and self._vowel_in(w, len(w) - 2):
            w = w[:-1] + "i"
        # step 2
        for s, r in (("ational", "ate"), ("tional", "tion"), ("enci", "ence"), ("anci", "ance"), ("izer", "ize"),
                     ("bli", "ble"), ("alli", "al"), ("entli", "ent"), ("eli", "e"), ("ousli", "ous"),
                     ("ization", "ize"), ("ation", "ate"), ("ator", "ate"), ("alism", "al"), ("iveness", "ive"),
                     ("fulness", "ful"), ("ousness", "ous"), ("aliti", "al"), ("iviti", "ive"), ("biliti", "ble"),
                     ("logi", "log")):
            if w.endswith(s):
                w = self._r(w, s, r)
                break
        # step 3
        for s, r in (("icate", "ic"), ("ative", ""), ("alize", "al"), ("iciti", "ic"), ("ical", "ic"), ("ful", ""),
                     ("ness", "")):
            if w.endswith(s):
                w = self._r(w, s, r)
                break
        # step 4
        for s in ("al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent", "ion", "ou", "ism",
                  "ate", "iti", "ous", "ive", "ize"):
            if w.endswith(s):
                j = len(w) - len(s) - 1
                if s == "ion":
                    if j >= 0 and w[j] in "st" and self._m(w, j) > 1:
                        w = w[: j + 1]
                elif self._m(w, j) > 1:
                    w = w[: j + 1]
                break
        # step 5
        if w.endswith("e"):
            a = self._m(w, len(w) - 2)
            if a > 1 or (a == 1 and not self._cvc(w, len(w) - 2)):
                w = w[:-1]
        if w.endswith("ll") and self._m(w, len(w) - 1) > 1:
            w = w[:-1]
        if len(self.cache) < 1000000:
            self.cache[orig] = w
        return w


_STEMMER = PorterStemmer()


def analyze(text):
    out = []
    for t in _TOKEN.findall(text.lower()):
        t = t.replace("’", "'")
        if t.endswith("'s"):
            t = t[:-2]
        if not t or t in STOP:
            continue
        out.append(_STEMMER.stem(t))
    return out


# --- BM25 --------------------------------------------------------------------------------------------
class BM25:
    def __init__(self, docs, k1=0.9, b=0.4):
        """docs: {doc_id: text}"""
        import scipy.sparse as sp
        self.ids = list(docs)
        self.k1, self.b = k1, b
        vocab = {}
        rows, cols, vals, lens = [], [], [], []
        for i, d in enumerate(self.ids):
            toks = analyze(docs[d])
            lens.append(len(toks))
            for t, c in Counter(toks).items():
                rows.append(i)
                cols.append(vocab.setdefault(t, len(vocab)))
                vals.append(c)
        self.vocab = vocab
        n = len(self.ids)
        tf = sp.csr_matrix((np.array(vals, np.float32), (rows, cols)), shape=(n, len(vocab)))
        dl = np.array(lens, np.float32)
        avg = dl.mean() if n else 1.0
        df = np.bincount(cols, minlength=len(vocab)).astype(np.float64)
        self.idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        tf = tf.tocoo()
        norm = k1 * (1 - b + b * dl[tf.row] / avg)
        w = tf.data * (k1 + 1) / (tf.data + norm) * self.idf[tf.col]
        self.w = sp.csc_matrix((w.astype(np.float32), (tf.row, tf.col)), shape=tf.shape)

    def scores(self, query):
        terms = [self.vocab[t] for t in analyze(query) if t in self.vocab]
        s = np.zeros(len(self.ids), np.float32)
        for t in terms:  # repeated query terms count again, as in Lucene's BooleanQuery of term clauses
            col = self.w.getcol(t)
            s[col.indices] += col.data
        return s

    def search(self, query, k=100):
        s = self.scores(query)
        k = min(k, len(s))
        top = np.argpartition(-s, k - 1)[:k]
        top = top[np.lexsort((np.array([self.ids[i] for i in top]), -s[top]))]
        return {self.ids[i]: float(s[i]) for i in top if s[i] > 0}


# --- metrics (trec_eval conventions) -----------------------------------------------------------------
def _ranked(scores):
    # trec_eval: decreasing score, ties by decreasing docno
    return [d for d, _ in sorted(scores.items(), key=lambda x: (x[1], x[0]), reverse=True)]


def ndcg_at(run, qrels, k=10):
    """Mean over queries in qrels that the run has; gains = graded labels as-is (trec_eval ndcg_cut)."""
    vals = {}
    for q, rels in qrels.items():
        if q not in run:
            continue
        ranked = _ranked(run[q])[:k]
        dcg = sum(rels.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked) if rels.get(d, 0) > 0)
        ideal = sorted((r for r in rels.values() if r > 0), reverse=True)[:k]
        idcg = sum(r / math.log2(i + 2) for i, r in enumerate(ideal))
        vals[q] = dcg / idcg if idcg > 0 else 0.0
    return float(np.mean(list(vals.values()))), vals


def recall_at(run, qrels, k=100, min_rel=1):
    vals = {}
    for q, rels in qrels.items():
        if q not in run:
            continue
        relevant = {d for d, r in rels.items() if r >= min_rel}
        if not relevant:
            continue
        ranked = _ranked(run[q])[:k]
        vals[q] = len(relevant.intersection(ranked)) / len(relevant)
    return float(np.mean(list(vals.values()))), vals


def mrr_at(run, qrels, k=10, min_rel=1):
    vals = []
    for q, rels in qrels.items():
        if q not in run:
            continue
        rr = 0.0
        for i, d in enumerate(_ranked(run[q])[:k]):
            if rels.get(d, 0) >= min_rel:
                rr = 1.0 / (i + 1)
                break
        vals.append(rr)
    return float(np.mean(vals))
