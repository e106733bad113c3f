#!/usr/bin/env python3
"""Document vectors with known cosines for rest-api-spec/test/neural_rescore/50_cosine_filter.yml.

For a test adapter and the query embedding of the first row of its expected.tsv, writes documents whose vector has
a chosen cosine with that query (c * q/|q| + sqrt(1 - c^2) * u, u a seeded unit vector orthogonal to q, rounded to
6 decimals) and the probability the adapter gives them, computed with the reference code of make_test_adapters.py
from the vectors as rounded. Prints JSON: {"query": [...], "docs": [{"id", "cosine", "probability", "vector"}]}.
    python3 models/tools/cosine_filter_rest_vectors.py test-adapter-tiny-bi 0.9 0.6 0.3 0 -0.3 -0.8
"""
import json
import math
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_test_adapters import ROOT, forward, mapping  # noqa: E402


def main():
    name = sys.argv[1]
    cosines = [float(c) for c in sys.argv[2:]]
    folder = os.path.join(ROOT, name)
    adapter = json.load(open(os.path.join(folder, "adapter.json")))
    with open(os.path.join(folder, "expected.tsv")) as f:
        f.readline()
        query = [float(v) for v in f.readline().split("\t")[0].split()]
    dim = len(query)
    nq = math.sqrt(sum(v * v for v in query))
    qh = [v / nq for v in query]
    out = forward(adapter["layers"], query)
    rnd = random.Random(11)
    docs = []
    for i, c in enumerate(cosines):
        u = [rnd.gauss(0, 1) for _ in range(dim)]
        dot = sum(a * b for a, b in zip(u, qh))
        u = [a - dot * b for a, b in zip(u, qh)]
        nu = math.sqrt(sum(a * a for a in u))
        u = [a / nu for a in u]
        s = math.sqrt(max(0.0, 1 - c * c))
        d = [round(c * a + s * b, 6) for a, b in zip(qh, u)]
        nd = math.sqrt(sum(a * a for a in d))
        cos = sum(a * b for a, b in zip(query, d)) / (nq * nd)
        docs.append({"id": "c%d" % i, "cosine": cos, "probability": mapping(adapter["family"], out, cos), "vector": d})
    json.dump({"query": query, "docs": docs}, sys.stdout)


if __name__ == "__main__":
    main()
