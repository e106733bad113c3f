#!/usr/bin/env python3
"""Late-interaction quality: nDCG@10 (and R@100, MRR@10) of BM25 and of BM25 + `late_interaction` rescoring of the
top 100 with zero-shot MiniLM token vectors, per encoding (float, float16, int8, bit) and scoring (colbert, xtr),
on SciFact (BM25 top-100 from the node) and TREC DL 2019 (the given BM25 top-100 run, full graded qrels), plus the
loss from float to each encoding.

Each corpus is indexed once through the plugin's `late_interaction` ingest processor (title + text), with one
multi_vector field per encoding (rescore_harness/li_index.py). Metrics are rescore_harness/metrics.py
(trec_eval conventions; checked against the published BM25 nDCG@10 of the TREC DL 2019 run, 0.5058).

    /usr/bin/python3 harness/late_interaction_eval.py --url http://127.0.0.1:9741 --out results/late-interaction
    (scripts/eval-late-interaction.sh starts a node and runs it)
"""
import argparse
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rescore_harness import data, li_index, metrics, report, search  # noqa: E402
from rescore_harness.client import Client  # noqa: E402
from rescore_harness.stats import mean, percentile  # noqa: E402

COLLECTIONS = {
    "scifact": {"path": "/work/shared/data/scifact", "index": "li-scifact", "min_rel": 1, "top_n": 100},
    "trec-dl-2019": {"path": "/work/shared/data/trec-dl-2019", "index": "li-dl19", "min_rel": 2, "run": "bm25_top100.trec",
                     "expect_run_ndcg10": 0.5058},
    # small extra check (1,400 docs, 225 queries); qrels/test.tsv uses ir_datasets' scale (4 = complete answer,
    # 1 = minimum interest), graded gains as-is, rel >= 1 counts for R@100 and MRR@10
    "cranfield": {"path": "/work/shared/data/cranfield", "index": "li-cranfield", "min_rel": 1, "top_n": 100},
}


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def scorers(kprimes_float, kprime_all, model=li_index.MODEL, encodings=li_index.ENCODINGS, scorings=("colbert", "xtr")):
    out = []
    if "colbert" in scorings:
        for e in encodings:
            out.append({"model": model, "encoding": e, "scoring": "colbert"})
    if "xtr" in scorings:
        for e in encodings:
            out.append({"model": model, "encoding": e, "scoring": "xtr", "top_k_prime": kprime_all})
        for k in kprimes_float:
            if k != kprime_all and "float" in encodings:
                out.append({"model": model, "encoding": "float", "scoring": "xtr", "top_k_prime": k})
    return out


def label(s):
    prefix = "" if s["model"] == li_index.MODEL else s["model"] + ": "
    if s["scoring"] == "xtr":
        return prefix + "xtr k'=%d, %s" % (s["top_k_prime"], s["encoding"])
    return prefix + "colbert, %s" % s["encoding"]


def clause(s, query_text, window):
    c = {"model": s["model"], "query_text": query_text, "field": li_index.field(s["encoding"]), "scoring": s["scoring"],
         "score_mode": "replace"}
    if s["scoring"] == "xtr":
        c["top_k_prime"] = s["top_k_prime"]
    return {"window_size": window, "late_interaction": c}


def first_pass(coll, qid, qtext):
    if coll.get("_run") is not None:
        return search.run_query(coll["_run_order"][qid])
    return search.bm25_query(qtext)


def run(client, coll, scorer, window):
    rankings, lat, took = {}, [], []
    for qid in coll["_qids"]:
        qtext = coll["_queries"][qid]
        rescore = clause(scorer, qtext, window) if scorer else None
        body = search.search_body(first_pass(coll, qid, qtext), coll["_size"], rescore)
        index = coll["_indexes"][scorer["model"]] if scorer else next(iter(coll["_indexes"].values()))
        r, dt = client.timed("POST", "/%s/_search" % index, body)
        rankings[qid] = [h["_id"] for h in r["hits"]["hits"]]
        lat.append(dt)
        took.append(r.get("took", 0) / 1000.0)
    return rankings, lat, took


def prepare(client, name, coll, max_queries, models, encodings):
    path = coll["path"]
    corpus = data.load_corpus(path)
    coll["_queries"] = data.load_queries(path)
    coll["_qrels"] = data.load_qrels(path)
    coll["_run"] = None
    coll["_size"] = coll.get("top_n", 100)
    qids = [q for q in coll["_qrels"] if q in coll["_queries"]]
    if coll.get("run"):
        run_file = data.load_run(os.path.join(path, coll["run"]))
        got, _ = metrics.evaluate({q: metrics.ranked(s) for q, s in run_file.items()}, coll["_qrels"])
        if round(got["ndcg@10"], 4) != coll["expect_run_ndcg10"]:
            raise SystemExit("SELF-CHECK FAILED: nDCG@10 of %s is %.4f, expected %.4f" % (coll["run"], got["ndcg@10"], coll["expect_run_ndcg10"]))
        log("  self-check: nDCG@10 of %s = %.4f (expected %.4f)" % (coll["run"], got["ndcg@10"], coll["expect_run_ndcg10"]))
        coll["_run"] = run_file
        coll["_run_order"] = {q: metrics.ranked(s) for q, s in run_file.items()}
        coll["_size"] = max(len(v) for v in run_file.values())
        qids = [q for q in qids if q in run_file]
    qids.sort(key=lambda q: (len(q), q))
    if max_queries:
        qids = qids[:max_queries]
    coll["_qids"] = qids
    coll["_index_seconds"] = 0.0
    coll["_indexes"] = {}
    for model, dims in models:
        # the default model's index keeps its historical name, so earlier nodes' indexes are reused
        index = coll["index"] if model == li_index.MODEL else "%s--%s" % (coll["index"], model)
        coll["_indexes"][model] = index
        coll["_index_seconds"] += li_index.ensure_index(client, index, corpus, pipeline="li-" + model, label=name + " / " + model,
                                                        log=log, model=model, dims=dims, encodings=encodings)
    coll["_docs"] = len(corpus)
    log("  %s: %d docs, %d judged queries, first pass: %s" % (name, len(corpus), len(qids),
        "run file " + coll["run"] if coll["_run"] is not None else "BM25 top-%d" % coll["_size"]))


def evaluate(client, name, coll, scorer_list, window, results, run_dir):
    qrels = {q: coll["_qrels"][q] for q in coll["_qids"]}

    def record(lbl, s, rankings, lat, took):
        m, per = metrics.evaluate(rankings, qrels, min_rel=coll["min_rel"])
        row = {"collection": name, "scorer": lbl, "model": s and s["model"], "encoding": s and s["encoding"], "scoring": s and s["scoring"],
               "top_k_prime": s and s.get("top_k_prime"), "window": window if s else 0, "queries": m["queries"],
               "ndcg@10": m["ndcg@10"], "recall@100": m["recall@100"], "mrr@10": m["mrr@10"],
               "latency_mean_ms": 1000 * mean(lat), "latency_p95_ms": 1000 * percentile(lat, 95), "took_mean_ms": 1000 * mean(took),
               "per_query_ndcg@10": per["ndcg@10"]}
        results.append(row)
        data.write_run(rankings, os.path.join(run_dir, "%s__%s.trec" % (name, lbl.replace(" ", "_").replace(",", "").replace("'", ""))), "li")
        log("  %-28s nDCG@10 %.4f  R@100 %.4f  MRR@10 %.4f  latency mean %.0f ms" % (lbl, m["ndcg@10"], m["recall@100"], m["mrr@10"], row["latency_mean_ms"]))

    run(client, coll, None, 0)  # warm
    rankings, lat, took = run(client, coll, None, 0)
    if coll["_run"] is not None:
        bad = [q for q in coll["_qids"] if rankings[q] != coll["_run_order"][q]]
        if bad:
            raise SystemExit("SELF-CHECK FAILED: first pass differs from the run for queries %s" % bad[:5])
        log("  self-check: the first pass returns the run's exact order for all %d queries" % len(coll["_qids"]))
    record("BM25" if coll["_run"] is None else "BM25 (run file)", None, rankings, lat, took)
    for s in scorer_list:
        q0 = coll["_qids"][0]
        client.request("POST", "/%s/_search" % coll["_indexes"][s["model"]],
                       search.search_body(first_pass(coll, q0, coll["_queries"][q0]), 10, clause(s, coll["_queries"][q0], window)))
        rankings, lat, took = run(client, coll, s, window)
        record(label(s), s, rankings, lat, took)


def paired_p(a, b, samples=10000, seed=1):
    """Two-sided paired randomization (sign-flip) test of mean(a - b) over the queries both have."""
    import random
    qs = sorted(set(a) & set(b))
    d = [a[q] - b[q] for q in qs]
    if not d:
        return float("nan")
    obs = abs(sum(d))
    rnd = random.Random(seed)
    hits = 0
    for _ in range(samples):
        if abs(sum(x if rnd.random() < 0.5 else -x for x in d)) >= obs - 1e-12:
            hits += 1
    return (hits + 1) / (samples + 1)


def write_report(results, meta, out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "quality-results.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    lines = ["# Late interaction: quality", "",
             "Measured %s on %s, through a real OpenSearch 3.8.0 node with the plugin (heap %s), by "
             "`harness/late_interaction_eval.py` (`scripts/eval-late-interaction.sh`)." % (meta["date"], meta["machine"], meta.get("heap", "?")),
             "",
             "Conditions:",
             "- Models: " + "; ".join(
                 "`all-minilm-l6-v2` (the shipped int8-quantized MiniLM bi-encoder) used **zero-shot** as a token encoder: "
                 "document = title + text, [CLS] and [SEP] kept, punctuation skipped, max 256 tokens; query = its own tokens "
                 "(no [MASK] augmentation, no markers), every vector L2-normalized; not a trained ColBERT model"
                 if m["id"] == li_index.MODEL else
                 "`%s` (%s, %d dims; its manifest's markers, query augmentation, skiplist and lengths)" % (m["id"], m.get("description") or m.get("type"), m["dims"])
                 for m in meta.get("models", [{"id": li_index.MODEL}])) + ".",
             "- Indexing: the plugin's `late_interaction` ingest processor once per document, copied into one "
             "`multi_vector` field per encoding; one shard (the rescore window is then the global top-N).",
             "- First pass: SciFact: BM25 (k1 0.9, b 0.4, English analysis, title + text) top 100 from the node; "
             "TREC DL 2019: the given `bm25_top100.trec` run, replayed exactly (self-checks: the run file's nDCG@10 "
             "is 0.5058, and the node returns the run's order for every query).",
             "- Rescoring: `late_interaction`, window 100, `score_mode: replace` (the late-interaction score alone orders the top 100).",
             "- Metrics: nDCG@10 with graded gains and full qrels (TREC DL: judged passages outside the pool stay in the "
             "ideal ranking), R@100 and MRR@10 binary (SciFact rel >= 1, TREC DL rel >= 2), trec_eval tie order.",
             "- Latency: client wall time per search (query encoding + rescoring), single client, on a shared 2-core "
             "machine (load noted below); indicative only.", ""]
    if meta.get("busy"):
        lines += ["Other processes busy at the start:", ""] + ["- " + b for b in meta["busy"]] + [""]
    for coll in meta["collections"]:
        rows = [r for r in results if r["collection"] == coll]
        if not rows:
            continue
        c = meta["collections"][coll]
        lines += ["## %s (%d queries, %d docs)" % (coll, c["queries"], c["docs"]), ""]
        base = rows[0]["ndcg@10"]
        floats = {(r.get("model"), r["scoring"], r["top_k_prime"]): r["ndcg@10"] for r in rows if r["encoding"] == "float"}
        table = []
        for r in rows:
            ref = floats.get((r.get("model"), r["scoring"], r["top_k_prime"])) if r["encoding"] else None
            table.append([r["scorer"], "%.4f" % r["ndcg@10"], "%+.4f" % (r["ndcg@10"] - base) if r["encoding"] else "-",
                          ("%+.4f" % (r["ndcg@10"] - ref)) if ref is not None and r["encoding"] != "float" else "-",
                          "%.4f" % r["recall@100"], "%.4f" % r["mrr@10"], "%.0f" % r["latency_mean_ms"]])
        lines += [report.md_table(["scorer", "nDCG@10", "vs BM25", "vs float (same scoring)", "R@100", "MRR@10", "latency mean (ms)"],
                                  table, ["---", "---:", "---:", "---:", "---:", "---:", "---:"]), ""]
    lines += ["## Loss from float", "",
              "nDCG@10 difference to float with the same scoring; in brackets the p-value of a two-sided paired "
              "randomization test over the queries (10,000 sign flips).", ""]
    table = []
    for coll in meta["collections"]:
        rows = [r for r in results if r["collection"] == coll and r["encoding"]]
        for model, scoring, k in sorted({(r.get("model") or "", r["scoring"], r["top_k_prime"]) for r in rows},
                                        key=lambda x: (x[0], x[1], x[2] or 0)):
            by = {r["encoding"]: r for r in rows if (r.get("model") or "") == model and r["scoring"] == scoring and r["top_k_prime"] == k}
            if "float" in by and len(by) > 1:
                name = scoring if scoring == "colbert" else "xtr k'=%d" % k
                if model and model != li_index.MODEL:
                    name = model + ": " + name
                f = by["float"]
                cells = []
                for e in ("float16", "int8", "bit"):
                    if e in by:
                        cells.append("%+.4f (p %.2f)" % (by[e]["ndcg@10"] - f["ndcg@10"],
                                                         paired_p(by[e]["per_query_ndcg@10"], f["per_query_ndcg@10"])))
                    else:
                        cells.append("-")
                table.append([coll, name, "%.4f" % f["ndcg@10"]] + cells)
    lines += [report.md_table(["collection", "scoring", "float nDCG@10", "float16", "int8", "bit"], table,
                              ["---", "---", "---:", "---:", "---:", "---:"]), ""]
    lines += ["## Late interaction vs BM25", ""]
    table = []
    for coll in meta["collections"]:
        rows = [r for r in results if r["collection"] == coll]
        if not rows:
            continue
        base = rows[0]
        for r in rows[1:]:
            if r["scoring"] == "colbert":
                table.append([coll, r["scorer"], "%.4f" % base["ndcg@10"], "%.4f" % r["ndcg@10"], "%+.4f" % (r["ndcg@10"] - base["ndcg@10"]),
                              "%.4f" % paired_p(r["per_query_ndcg@10"], base["per_query_ndcg@10"])])
    lines += [report.md_table(["collection", "scorer", "BM25 nDCG@10", "nDCG@10", "difference", "paired p"], table,
                              ["---", "---", "---:", "---:", "---:", "---:"]), ""]
    lines += ["- " + n for n in meta.get("notes", [])]
    with open(os.path.join(out, "quality.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:9741")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(HERE), "results", "late-interaction"))
    ap.add_argument("--collections", default="scifact,trec-dl-2019")
    ap.add_argument("--max-queries", type=int, default=None)
    ap.add_argument("--window", type=int, default=100)
    ap.add_argument("--top-k-prime", type=int, default=1000, help="XTR k' for every encoding")
    ap.add_argument("--float-top-k-primes", default="100,1000,10000", help="extra XTR k' values, float only")
    ap.add_argument("--heap", default="?")
    ap.add_argument("--models", default=li_index.MODEL,
                    help="comma-separated token encoders to compare, as ID[:DIMS] (DIMS 384 unless given), each indexed "
                         "into its own index, e.g. all-minilm-l6-v2,minilm-colbert-v1:128")
    ap.add_argument("--encodings", default=",".join(li_index.ENCODINGS))
    ap.add_argument("--scorings", default="colbert,xtr")
    a = ap.parse_args()
    client = Client(a.url, timeout=3600)
    client.wait_for_node()
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": report.machine_info(), "busy": report.busy_processes(),
            "url": client.url, "heap": a.heap, "window": a.window, "collections": {}, "notes": []}
    results = []
    run_dir = os.path.join(a.out, "runs")
    os.makedirs(run_dir, exist_ok=True)
    encodings = tuple(e for e in a.encodings.split(",") if e)
    listed = client.request("GET", "/_plugins/neural_rescore/models")["models"]
    models = []
    sc = []
    for spec in a.models.split(","):
        model, _, dims = spec.partition(":")
        if model not in listed:
            raise SystemExit("model [%s] is not on the node; it has %s" % (model, sorted(listed)))
        dims = int(dims or li_index.DIMS)
        models.append((model, dims))
        sc += scorers([int(k) for k in a.float_top_k_primes.split(",") if k], a.top_k_prime, model, encodings,
                      a.scorings.split(","))
    meta["models"] = [{"id": m, "dims": d, "type": listed[m].get("type"), "description": listed[m].get("description")}
                      for m, d in models]
    for name in a.collections.split(","):
        coll = dict(COLLECTIONS[name])
        log("== %s" % name)
        prepare(client, name, coll, a.max_queries, models, encodings)
        evaluate(client, name, coll, sc, a.window, results, run_dir)
        meta["collections"][name] = {"queries": len(coll["_qids"]), "docs": coll["_docs"], "index_seconds": coll["_index_seconds"]}
        meta["load_average"] = open("/proc/loadavg").read().strip()
        write_report(results, meta, a.out)
    log("wrote %s" % os.path.join(a.out, "quality.md"))


if __name__ == "__main__":
    main()
