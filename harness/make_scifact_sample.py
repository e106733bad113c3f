#!/usr/bin/env python3
"""Builds harness/data/scifact-sample/, the SciFact sample the demo indexes, from a full BEIR SciFact folder.

Deterministic: the test queries sorted by numeric id, every (300 // N)-th one; for each, its judged documents plus
the BM25 top-K documents of the FULL corpus as distractors (so the sample is as hard as the full collection at the
top of the ranking). Writes corpus.jsonl, queries.jsonl, qrels/test.tsv and SOURCE.txt (provenance and license,
copied from the source folder's SOURCE.txt).

    /usr/bin/python3 harness/make_scifact_sample.py --source /work/shared/data/scifact
"""
import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rescore_harness import data  # noqa: E402
from rescore_harness.bm25 import BM25  # noqa: E402


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default="/work/shared/data/scifact")
    ap.add_argument("--out", default=os.path.join(here, "data", "scifact-sample"))
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--distractors", type=int, default=20, help="BM25 top-K of each query kept as distractors")
    ap.add_argument("--max-bytes", type=int, default=2_000_000)
    args = ap.parse_args()

    corpus = data.load_corpus(args.source)
    queries = data.load_queries(args.source)
    qrels = data.load_qrels(args.source)
    test_ids = sorted((q for q in queries if q in qrels), key=int)
    step = max(1, len(test_ids) // args.queries)
    picked = test_ids[::step][: args.queries]
    bm25 = BM25({d: data.doc_text(v) for d, v in corpus.items()})
    keep = set()
    for q in picked:
        keep.update(d for d in qrels[q] if d in corpus)
        keep.update(d for d, _ in bm25.search(queries[q], args.distractors))
    doc_ids = [d for d in corpus if d in keep]  # source file order

    os.makedirs(os.path.join(args.out, "qrels"), exist_ok=True)
    with open(os.path.join(args.out, "corpus.jsonl"), "w", encoding="utf-8") as f:
        for d in doc_ids:
            f.write(json.dumps({"_id": d, "title": corpus[d]["title"], "text": corpus[d]["text"], "metadata": {}}, ensure_ascii=False) + "\n")
    with open(os.path.join(args.out, "queries.jsonl"), "w", encoding="utf-8") as f:
        for q in picked:
            f.write(json.dumps({"_id": q, "text": queries[q], "metadata": {}}, ensure_ascii=False) + "\n")
    with open(os.path.join(args.out, "qrels", "test.tsv"), "w", encoding="utf-8") as f:
        f.write("query-id\tcorpus-id\tscore\n")
        for q in picked:
            for d, g in sorted(qrels[q].items()):
                f.write("%s\t%s\t%d\n" % (q, d, g))

    size = sum(os.path.getsize(os.path.join(r, n)) for r, _, ns in os.walk(args.out) for n in ns if n != "SOURCE.txt")
    if size > args.max_bytes:
        raise SystemExit("error: sample is %d bytes, over --max-bytes %d; lower --distractors or --queries" % (size, args.max_bytes))

    def sha(name):
        with open(os.path.join(args.out, name), "rb") as f:
            return hashlib.sha256(f.read()).hexdigest()[:16]

    with open(os.path.join(args.source, "SOURCE.txt"), encoding="utf-8") as f:
        upstream = f.read()
    n_judged = sum(len(qrels[q]) for q in picked)
    with open(os.path.join(args.out, "SOURCE.txt"), "w", encoding="utf-8") as f:
        f.write(
            "SciFact SAMPLE for the neural-rescore demo (harness/make_scifact_sample.py), derived from BEIR SciFact (test).\n"
            "Selection: %d of the %d test queries (sorted by numeric id, every %d-th); corpus = their %d judged documents plus the\n"
            "BM25 (k1 0.9, b 0.4) top-%d documents of the full 5,183-document corpus for each query (hard distractors):\n"
            "%d documents. qrels/test.tsv holds all %d judgments of the picked queries (binary). Texts are unchanged.\n"
            "sha256 (first 16 hex): corpus %s  queries %s  qrels %s\n\n"
            "License and attribution (unchanged from the full set): SciFact claims and evidence annotations CC BY 4.0;\n"
            "abstracts (from S2ORC) ODC-By 1.0. Cite Wadden et al., \"Fact or Fiction: Verifying Scientific Claims\", EMNLP 2020,\n"
            "and BEIR (Thakur et al., NeurIPS 2021 Datasets and Benchmarks).\n\n"
            "---- provenance of the full set (its SOURCE.txt, verbatim) ----\n%s"
            % (len(picked), len(test_ids), step, n_judged, args.distractors, len(doc_ids), n_judged,
               sha("corpus.jsonl"), sha("queries.jsonl"), sha(os.path.join("qrels", "test.tsv")), upstream)
        )
    print("wrote %s: %d queries, %d docs, %d bytes" % (args.out, len(picked), len(doc_ids), size))


if __name__ == "__main__":
    main()
