#!/usr/bin/env python3
"""Ingest speed of the `late_interaction` processor into a `multi_vector` field, by how the token vectors travel
from the processor to the mapper (results/late-interaction/ingest.md):

  - `array`: JSON numbers (the processor's default `"format": "array"`);
  - `base64`: one base64 string of big-endian float32 values (`"format": "base64"`);
  - `model only`: the processor (default format) followed by a `remove` of its output, so nothing reaches the mapper: the
    cost of tokenizing and running the model, the ceiling of the other two.

Each round bulk-indexes the first --docs documents of a collection (title + text) into a fresh one-shard index per
variant, in the same order, the variants interleaved round by round so a noisy machine slows all alike. The field
is excluded from `_source`, as the quality harness does. After the last round the `array` and `base64` indexes must
give identical late-interaction scores for a few queries (the same vectors stored), or the run fails.

    /usr/bin/python3 harness/ingest_bench.py --url http://127.0.0.1:9741 --out results/late-interaction
"""
import argparse
import json
import os
import platform
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rescore_harness import data  # noqa: E402
from rescore_harness.client import Client  # noqa: E402

VARIANTS = ("array", "base64", "model only")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def pipeline(model, variant, batch):
    proc = {"model": model, "fields": ["title", "text"], "target_field": "tok", "batch_size": batch,
            "ignore_missing": True}
    if variant == "base64":
        proc["format"] = "base64"  # the others use the default, "array" (and run on builds that predate the option)
    procs = [{"late_interaction": proc}]
    if variant == "model only":
        procs.append({"remove": {"field": "tok", "ignore_missing": True}})
    return {"description": "ingest bench: %s" % variant, "processors": procs}


def index_name(variant):
    return "ingest-bench-" + variant.replace(" ", "-")


def fill(client, variant, docs, model, dims, batch):
    index = index_name(variant)  # the pipeline has the same name
    client.request("PUT", "/_ingest/pipeline/" + index, pipeline(model, variant, batch))
    if client.exists(index):
        client.request("DELETE", "/" + index)
    body = {"settings": {"number_of_shards": 1, "number_of_replicas": 0, "default_pipeline": index},
            "mappings": {"_source": {"excludes": ["tok"]},
                         "properties": {"title": {"type": "text"}, "text": {"type": "text"},
                                        "tok": {"type": "multi_vector", "dims": dims, "model": model}}}}
    client.request("PUT", "/" + index, body)
    t0 = time.perf_counter()
    for start in range(0, len(docs), batch):
        lines = []
        for doc_id, doc in docs[start:start + batch]:
            lines.append(json.dumps({"index": {"_index": index, "_id": doc_id}}))
            lines.append(json.dumps(doc))
        r = client.request("POST", "/_bulk", "\n".join(lines) + "\n", ndjson=True)
        if r["errors"]:
            raise SystemExit("bulk errors in %s: %s" % (index, json.dumps(r)[:800]))
    seconds = time.perf_counter() - t0
    client.request("POST", "/%s/_flush" % index)
    store = client.request("GET", "/%s/_stats/store" % index)["_all"]["primaries"]["store"]["size_in_bytes"]
    return seconds, store


def scores(client, index, model, query):
    body = {"size": 10, "query": {"match": {"text": query}},
            "rescore": {"window_size": 50, "late_interaction": {
                "model": model, "query_text": query, "field": "tok", "scoring": "colbert"}}}
    hits = client.request("POST", "/%s/_search" % index, body)["hits"]["hits"]
    return [(h["_id"], h["_score"]) for h in hits]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", required=True)
    ap.add_argument("--data", default=os.path.join(os.path.dirname(HERE), "..", "shared", "data", "scifact"))
    ap.add_argument("--docs", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--batch", type=int, default=16, help="documents per bulk request and per processor batch")
    ap.add_argument("--model", default="all-minilm-l6-v2")
    ap.add_argument("--dims", type=int, default=384)
    ap.add_argument("--variants", default=",".join(VARIANTS),
                    help="comma-separated subset (e.g. 'array,model only' against an older build without base64)")
    ap.add_argument("--out", default=None, help="folder for ingest.md and ingest.json")
    args = ap.parse_args()

    variants = tuple(v for v in VARIANTS if v in args.variants.split(","))
    client = Client(args.url)
    corpus = data.load_corpus(args.data)
    docs = list(corpus.items())[:args.docs]
    log("ingest bench: %d docs of %s, %d rounds, model %s" % (len(docs), args.data, args.rounds, args.model))
    # warm-up: model load and JIT, not timed
    fill(client, variants[-1], docs[:args.batch * 2], args.model, args.dims, args.batch)
    runs = {v: [] for v in variants}
    stores = {}
    for r in range(args.rounds):
        order = variants if r % 2 == 0 else tuple(reversed(variants))
        for v in order:
            seconds, store = fill(client, v, docs, args.model, args.dims, args.batch)
            runs[v].append(seconds)
            stores[v] = store
            log("  round %d %-10s %6.1f s  %5.2f docs/s  store %.1f MB" % (r + 1, v, seconds, len(docs) / seconds, store / 1e6))

    queries = ["vaccine immune response", "protein folding structure", "cancer risk factors"]
    for q in queries if "array" in variants and "base64" in variants else []:
        a = scores(client, index_name("array"), args.model, q)
        b = scores(client, index_name("base64"), args.model, q)
        if a != b:
            raise SystemExit("array and base64 indexes score differently for %r:\n%s\n%s" % (q, a, b))
    log("  array and base64 indexes: identical top-10 ids and scores for %d queries" % len(queries))

    rate = {v: len(docs) / min(runs[v]) for v in variants}
    summary = {"docs": len(docs), "rounds": args.rounds, "batch": args.batch, "model": args.model, "dims": args.dims,
               "seconds": runs, "best_docs_per_s": rate, "store_bytes_after_flush": stores,
               "cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
               "date": time.strftime("%Y-%m-%d %H:%M")}
    lines = ["# late_interaction ingest: array vs base64 (%s)" % summary["date"], "",
             "%d SciFact documents (title + text), bulk batches of %d, model %s (%d dims), one shard, field excluded from "
             "`_source`; %d rounds interleaved; best round per variant; %d cores." % (
                 len(docs), args.batch, args.model, args.dims, args.rounds, summary["cores"]), "",
             "| variant | docs/s (best) | seconds per round | vs model only |",
             "|---|---:|---|---:|"]
    for v in variants:
        lines.append("| %s | %.2f | %s | %.2f |" % (
            v, rate[v], ", ".join("%.1f" % s for s in runs[v]),
            rate[v] / rate["model only"] if "model only" in rate else float("nan")))
    lines.append("")
    if "array" in rate and "base64" in rate:
        lines.append("base64 / array: %.2fx docs/s. The array and base64 indexes gave identical top-10 ids and scores "
                     "for %d queries." % (rate["base64"] / rate["array"], len(queries)))
    lines.append("ingest.json also has each index's store size after a flush; it moves with the merge state (not a "
                 "storage comparison: see results/late-interaction/bench.md for storage per encoding).")
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "ingest.md"), "w") as f:
            f.write(text)
        with open(os.path.join(args.out, "ingest.json"), "w") as f:
            json.dump(summary, f, indent=1)
    for v in variants:
        client.request("DELETE", "/" + index_name(v), ok=(200, 404))


if __name__ == "__main__":
    main()
