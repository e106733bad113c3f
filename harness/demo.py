#!/usr/bin/env python3
"""The README demo, against a running node with the plugin: indexes the SciFact sample this repository carries
(harness/data/scifact-sample), shows for a few test queries the top hits of BM25 and of BM25 + text_embedding
rescoring with the default model, and prints nDCG@10 of both over all sample queries.

    /usr/bin/python3 harness/demo.py --url http://127.0.0.1:9600     (scripts/demo.sh starts and stops a node)
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rescore_harness import data, metrics, search  # noqa: E402
from rescore_harness.client import Client, index_corpus  # noqa: E402

DEFAULT_MODEL = "all-minilm-l6-v2"


def short(s, n):
    return s if len(s) <= n else s[: n - 1] + "…"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:9600")
    ap.add_argument("--data", default=os.path.join(HERE, "data", "scifact-sample"))
    ap.add_argument("--index", default="demo-scifact-sample")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--show", type=int, default=3, help="queries whose hits are printed")
    ap.add_argument("--top", type=int, default=5, help="hits printed per query")
    args = ap.parse_args()

    client = Client(args.url)
    client.wait_for_node()
    corpus = data.load_corpus(args.data)
    queries = data.load_queries(args.data)
    qrels = data.load_qrels(args.data)
    print("== SciFact sample: %d docs, %d test queries (%s; see its SOURCE.txt for license and attribution)"
          % (len(corpus), len(queries), os.path.relpath(args.data)))
    index_corpus(client, args.index, corpus, recreate=True, label="SciFact sample")

    rescorer = {"clause": "text_embedding", "model": args.model, "fields": ["title", "text"]}
    bm25, reranked = {}, {}
    lat_bm25, lat_rr = [], []
    t0 = time.time()
    for i, (qid, text) in enumerate(queries.items(), 1):
        r, dt = client.timed("POST", "/%s/_search" % args.index, search.search_body(search.bm25_query(text), 10))
        bm25[qid] = [h["_id"] for h in r["hits"]["hits"]]
        lat_bm25.append(dt)
        body = search.search_body(search.bm25_query(text), 10, search.rescore_clause(rescorer, text, args.window))
        r, dt = client.timed("POST", "/%s/_search" % args.index, body)
        reranked[qid] = [h["_id"] for h in r["hits"]["hits"]]
        lat_rr.append(dt)
        print("\r  searching: %d/%d queries, BM25 then BM25 + text_embedding (window %d) [%.0f s]"
              % (i, len(queries), args.window, time.time() - t0), end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    def mark(qid, d):
        return "*" if qrels.get(qid, {}).get(d, 0) > 0 else " "

    for qid in list(queries)[: args.show]:
        print("\nquery %s: %s" % (qid, queries[qid]))
        print("  %-52s | %s" % ("BM25", "BM25 + text_embedding [%s], window %d" % (args.model, args.window)))
        for k in range(args.top):
            left = bm25[qid][k] if k < len(bm25[qid]) else None
            right = reranked[qid][k] if k < len(reranked[qid]) else None
            lt = "%s%d %s" % (mark(qid, left), k + 1, short(corpus[left]["title"], 48)) if left else ""
            rt = "%s%d %s" % (mark(qid, right), k + 1, short(corpus[right]["title"], 48)) if right else ""
            print("  %-52s | %s" % (lt, rt))
    print("\n  (* = judged relevant)")

    m_bm25, _ = metrics.evaluate(bm25, qrels)
    m_rr, _ = metrics.evaluate(reranked, qrels)
    print("\n== nDCG@10 over the %d sample queries" % m_bm25["queries"])
    print("  BM25 (OpenSearch, k1 0.9, b 0.4)                      %.4f   (mean latency %.0f ms)" % (m_bm25["ndcg@10"], 1000 * sum(lat_bm25) / len(lat_bm25)))
    print("  BM25 + text_embedding [%s], window %-4d  %.4f   (mean latency %.0f ms)" % (args.model, args.window, m_rr["ndcg@10"], 1000 * sum(lat_rr) / len(lat_rr)))
    print("  MRR@10: BM25 %.4f, reranked %.4f" % (m_bm25["mrr@10"], m_rr["mrr@10"]))


if __name__ == "__main__":
    main()
