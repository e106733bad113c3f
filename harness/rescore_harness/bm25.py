"""A small in-memory BM25 (k1 0.9, b 0.4; lowercase alphanumeric tokens, Lucene's English stopwords, a light
plural stemmer). Only used offline to pick hard distractor documents for the demo sample; the harnesses rank with
OpenSearch itself."""
import math
import re
from collections import Counter, defaultdict

STOPWORDS = set(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these they "
    "this to was will with".split()
)
_TOKEN = re.compile(r"[a-z0-9]+")


def _stem(t):
    if len(t) > 4 and t.endswith("ies"):
        return t[:-3] + "y"
    if len(t) > 3 and t.endswith("s") and not t.endswith("ss") and not t.endswith("us"):
        return t[:-1]
    return t


def analyze(text):
    return [_stem(t) for t in _TOKEN.findall(text.lower()) if t not in STOPWORDS]


class BM25:
    def __init__(self, docs, k1=0.9, b=0.4):
        """docs: doc id -> text."""
        self.k1, self.b = k1, b
        self.postings = defaultdict(list)
        lengths = {}
        for d, text in docs.items():
            tf = Counter(analyze(text))
            lengths[d] = sum(tf.values())
            for t, c in tf.items():
                self.postings[t].append((d, c))
        n = len(docs)
        avg = sum(lengths.values()) / max(n, 1)
        self.norm = {d: k1 * (1 - b + b * l / avg) for d, l in lengths.items()}
        self.idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self.postings.items()}

    def search(self, query, k=100):
        scores = defaultdict(float)
        for t in analyze(query):
            idf = self.idf.get(t)
            if idf is None:
                continue
            for d, c in self.postings[t]:
                scores[d] += idf * c * (self.k1 + 1) / (c + self.norm[d])
        return sorted(scores.items(), key=lambda x: (-x[1], x[0]))[:k]
