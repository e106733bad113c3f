#!/usr/bin/env python3
"""Quality harness: nDCG@10, Recall@100 and MRR@10 of BM25 and of each configured rescore clause, with latency.

For every collection of the config (BEIR layout: corpus.jsonl, queries.jsonl, qrels/test.tsv) it indexes the corpus
into a running node with the plugin (one shard, BM25 k1 0.9 b 0.4, English analysis), runs every judged test query
as a first pass, then the same queries with each scorer at each window size, and writes under --out:

  eval.md                  Markdown table: collection x scorer x window -> nDCG@10, R@100, MRR@10, latency mean/p95
  ndcg-vs-latency.png      nDCG@10 against mean latency per query, one line per scorer (points = window sizes)
  eval-results.json        every number, with the conditions of the run
  runs/*.trec              the rankings, as TREC runs (re-score them with any trec_eval)

First pass: BM25 top-N (`top_n`), or, for reranking collections such as TREC DL 2019, a supplied TREC run (`run`):
each query then fetches exactly its run's documents in the run's order (see rescore_harness/search.py run_query),
and the harness fails unless (a) the run file itself gives `expect_run_ndcg10` (TREC DL 2019 BM25: 0.5058) and
(b) the first pass through OpenSearch returns the run's order exactly.

    /usr/bin/python3 harness/eval.py --url http://127.0.0.1:9602 --config harness/configs/eval.json
    /usr/bin/python3 harness/eval.py --url http://127.0.0.1:9400 --smoke      (seconds; run by the test command)
"""
import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rescore_harness import data, metrics, report, search  # noqa: E402
from rescore_harness.client import Client, index_corpus  # noqa: E402
from rescore_harness.stats import mean, percentile  # noqa: E402

REPO = os.path.dirname(HERE)
STAT_KEYS = ("rescored_docs", "inference_batches", "inference_sequences", "inference_tokens", "padded_tokens", "inference_nanos")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def check_run_ndcg(run, qrels, expected, label):
    """The self-check of reranking collections: nDCG@10 of the run file itself (trec_eval order, full qrels) must
    equal `expected` to 4 decimals. Returns the value; raises SystemExit otherwise."""
    rankings = {q: metrics.ranked(s) for q, s in run.items()}
    m, _ = metrics.evaluate(rankings, qrels)
    got = m["ndcg@10"]
    if expected is not None and round(got, 4) != round(float(expected), 4):
        raise SystemExit(
            "SELF-CHECK FAILED: nDCG@10 of the run file of [%s] is %.6f, expected %.4f. The metric code, the qrels or "
            "the run file is wrong; no result of this harness can be trusted." % (label, got, float(expected)))
    return got


def scorer_label(s):
    return s.get("name") or "%s %s" % (s["clause"], s["model"])


def first_pass_body(coll, qid, qtext):
    if coll.get("_run") is not None:
        return search.run_query(coll["_run_order"][qid], coll["_run"][qid] if coll.get("first_pass_scores") == "run" else None)
    return search.bm25_query(qtext)


def run_queries(client, coll, scorer, window, progress_label):
    """Runs all queries of a collection once; returns rankings, latencies (client wall seconds) and server took."""
    index = coll["_index"]
    size = coll["_size"]
    rankings, lat, took = {}, [], []
    qids = coll["_qids"]
    t0 = time.time()
    for i, qid in enumerate(qids, 1):
        qtext = coll["_queries"][qid]
        rescore = None
        if scorer is not None:
            s = dict(scorer)
            s.setdefault("fields", coll.get("fields", ["title", "text"]))
            rescore = search.rescore_clause(s, qtext, window)
        body = search.search_body(first_pass_body(coll, qid, qtext), size, rescore)
        r, dt = client.timed("POST", "/%s/_search" % index, body)
        rankings[qid] = [h["_id"] for h in r["hits"]["hits"]]
        lat.append(dt)
        took.append(r.get("took", 0) / 1000.0)
        if progress_label and (i == len(qids) or i % 5 == 0):
            print("\r    %s: %d/%d queries [%.0f s]" % (progress_label, i, len(qids), time.time() - t0), end="", file=sys.stderr, flush=True)
    if progress_label:
        print(file=sys.stderr)
    return rankings, lat, took


def stats_delta(before, after):
    return {k: after.get(k, 0) - before.get(k, 0) for k in STAT_KEYS}


def prepare_collection(client, coll, max_queries=None, reindex=False):
    path = coll["path"]
    name = coll["name"]
    log("== collection %s (%s)" % (name, path))
    corpus = data.load_corpus(path)
    queries = data.load_queries(path)
    qrels = data.load_qrels(path, coll.get("split", "test"))
    coll["_queries"] = queries
    coll["_qrels"] = qrels
    coll["_index"] = coll.get("index", "eval-" + name)
    coll["_size"] = int(coll.get("top_n", 100))
    coll["_run"] = None
    qids = [q for q in qrels if q in queries]
    if coll.get("run"):
        run_path = coll["run"] if os.path.isabs(coll["run"]) else os.path.join(path, coll["run"])
        run = data.load_run(run_path)
        got = check_run_ndcg(run, qrels, coll.get("expect_run_ndcg10"), name)
        log("  self-check: nDCG@10 of %s = %.4f%s" % (os.path.basename(run_path), got,
            " (expected %.4f: OK)" % coll["expect_run_ndcg10"] if coll.get("expect_run_ndcg10") is not None else ""))
        coll["_run"] = run
        coll["_run_order"] = {q: metrics.ranked(s) for q, s in run.items()}
        coll["_size"] = max(len(v) for v in run.values())
        coll["_run_ndcg10"] = got
        qids = [q for q in qids if q in run]
    qids.sort(key=lambda q: (len(q), q))
    if max_queries:
        qids = qids[:max_queries]
    coll["_qids"] = qids
    log("  %d docs, %d judged queries used, first pass: %s" % (
        len(corpus), len(qids), ("run file %s" % coll["run"]) if coll["_run"] is not None else "BM25 top-%d" % coll["_size"]))
    index_corpus(client, coll["_index"], corpus, recreate=reindex, label=name)


def evaluate_collection(client, coll, scorers, results, run_dir):
    name = coll["name"]
    min_rel = int(coll.get("min_rel", 1))
    qrels = {q: coll["_qrels"][q] for q in coll["_qids"]}

    def record(scorer_name, window, rankings, lat, took, delta, latency_only=False):
        m, per = metrics.evaluate(rankings, qrels, min_rel=min_rel)
        row = {
            "collection": name, "scorer": scorer_name, "window": window, "queries": m["queries"],
            "ndcg@10": m["ndcg@10"], "recall@100": m["recall@100"], "mrr@10": m["mrr@10"],
            "latency_mean_ms": 1000 * mean(lat), "latency_p95_ms": 1000 * percentile(lat, 95),
            "took_mean_ms": 1000 * mean(took), "server_stats": delta, "latency_only": latency_only, "per_query_ndcg@10": per["ndcg@10"],
        }
        results.append(row)
        fname = "%s__%s__w%d.trec" % (name, scorer_name.replace(" ", "_").replace("/", "-"), window)
        data.write_run(rankings, os.path.join(run_dir, fname), scorer_name.replace(" ", "_"))
        log("  %-44s window %4d: nDCG@10 %.4f  R@100 %.4f  MRR@10 %.4f  latency mean %.0f ms p95 %.0f ms" % (
            scorer_name, window, m["ndcg@10"], m["recall@100"], m["mrr@10"], row["latency_mean_ms"], row["latency_p95_ms"]))
        return row

    # first pass, twice: the first warms caches, the second is timed
    run_queries(client, coll, None, 0, None)
    rankings, lat, took = run_queries(client, coll, None, 0, "first pass")
    if coll["_run"] is not None:
        bad = [q for q in coll["_qids"] if rankings[q] != coll["_run_order"][q]]
        if bad:
            raise SystemExit("SELF-CHECK FAILED: the first pass through OpenSearch does not return the run's order for "
                             "queries %s (first: got %s, want %s)" % (bad[:5], rankings[bad[0]][:5], coll["_run_order"][bad[0]][:5]))
        log("  self-check: the first pass through OpenSearch returns the run's exact order for all %d queries" % len(coll["_qids"]))
    base = record(coll.get("first_pass_name", "BM25" if coll["_run"] is None else "BM25 (run file)"), 0, rankings, lat, took, {})
    if coll["_run"] is not None and round(base["ndcg@10"], 4) != round(coll["_run_ndcg10"], 4):
        raise SystemExit("SELF-CHECK FAILED: first pass nDCG@10 %.4f != run file %.4f" % (base["ndcg@10"], coll["_run_ndcg10"]))

    for s in scorers:
        label = scorer_label(s)
        for window in s.get("windows", [100]):
            if s.get("collections") and coll["name"] not in s["collections"]:
                break
            # warm-up request: loads the model on first use and warms the JIT; not timed
            qid = coll["_qids"][0]
            client.request("POST", "/%s/_search" % coll["_index"], search.search_body(
                first_pass_body(coll, qid, coll["_queries"][qid]), 10,
                search.rescore_clause(dict(s, fields=s.get("fields", coll.get("fields", ["title", "text"]))), coll["_queries"][qid], window)))
            before = client.stats()
            rankings, lat, took = run_queries(client, coll, s, window, "%s w%d" % (label, window))
            record(label, window, rankings, lat, took, stats_delta(before, client.stats()), bool(s.get("latency_only")))


def write_outputs(results, out, meta):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "eval-results.json"), "w") as f:
        json.dump({"meta": meta, "results": results}, f, indent=1)
    rows = []
    for r in results:
        rows.append([r["collection"], r["scorer"], r["window"] or "-", r["queries"], "%.4f" % r["ndcg@10"], "%.4f" % r["recall@100"],
                     "%.4f" % r["mrr@10"], "%.0f" % r["latency_mean_ms"], "%.0f" % r["latency_p95_ms"]])
    table = report.md_table(
        ["collection", "scorer", "window", "queries", "nDCG@10", "R@100", "MRR@10", "latency mean (ms)", "latency p95 (ms)"], rows,
        ["---", "---", "---:", "---:", "---:", "---:", "---:", "---:", "---:"])
    notes = meta.get("notes", [])
    lines = ["# Rescoring quality and latency", "", "Measured %s on %s; code %s." % (meta["date"], meta["machine"], meta.get("code", "?")), ""]
    if meta.get("busy"):
        lines += ["Other processes busy at the start of the run:", ""] + ["- " + b for b in meta["busy"]] + [""]
    for e in meta.get("earlier_runs", []):
        lines += ["Rows of %s: measured %s on %s (busy: %s)." % (", ".join(e["collections"]), e["date"], e["machine"],
                                                                  "; ".join(e["busy"]) or "nothing else"), ""]
    lines += [table, ""]
    lines += ["- " + n for n in notes]
    if meta.get("plot"):
        lines += ["", "![nDCG@10 vs latency](%s)" % os.path.basename(meta["plot"])]
    with open(os.path.join(out, "eval.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def plot(results, path):
    if not report.have_matplotlib():
        log("  matplotlib not installed: no plot")
        return None
    plt = report.pyplot()
    colls = sorted({r["collection"] for r in results}, key=[r["collection"] for r in results].index)
    fig, axes = plt.subplots(1, len(colls), figsize=(6.5 * len(colls), 4.8), squeeze=False)
    for ax, c in zip(axes[0], colls):
        rows = [r for r in results if r["collection"] == c]
        for r in rows:
            if r["window"] == 0:
                ax.scatter([r["latency_mean_ms"]], [r["ndcg@10"]], marker="s", color="black", zorder=3)
                ax.annotate(r["scorer"], (r["latency_mean_ms"], r["ndcg@10"]), textcoords="offset points", xytext=(5, -12), fontsize=8)
        for s in sorted({r["scorer"] for r in rows if r["window"]}, key=[r["scorer"] for r in rows].index):
            pts = sorted((r["latency_mean_ms"], r["ndcg@10"], r["window"]) for r in rows if r["scorer"] == s and r["window"])
            latency_only = any(r.get("latency_only") for r in rows if r["scorer"] == s)
            style = {"linestyle": "--", "color": "grey", "alpha": 0.7} if latency_only else {}
            ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=s, **style)
            for x, y, w in pts:
                ax.annotate("w%d" % w, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_xscale("log")
        ax.set_xlabel("mean latency per query (ms, log scale)")
        ax.set_ylabel("nDCG@10")
        ax.set_title(c)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def smoke(client, out):
    """Seconds-long end-to-end check against a running node with the test models; raises on any failure."""
    t0 = time.time()
    assert metrics.self_test()
    sample = os.path.join(HERE, "data", "scifact-sample")
    tmp = tempfile.mkdtemp(prefix="eval-smoke-")
    try:
        # (1) a tiny BEIR collection from the demo sample: 8 queries over the whole sample corpus
        coll_dir = os.path.join(tmp, "tiny")
        os.makedirs(os.path.join(coll_dir, "qrels"))
        queries = list(data.read_jsonl(os.path.join(sample, "queries.jsonl")))[:8]
        keep = {q["_id"] for q in queries}
        shutil.copy(os.path.join(sample, "corpus.jsonl"), coll_dir)
        with open(os.path.join(coll_dir, "queries.jsonl"), "w") as f:
            for q in queries:
                f.write(json.dumps(q) + "\n")
        with open(os.path.join(sample, "qrels", "test.tsv")) as src, open(os.path.join(coll_dir, "qrels", "test.tsv"), "w") as dst:
            for i, line in enumerate(src):
                if i == 0 or line.split("\t")[0] in keep:
                    dst.write(line)
        # (2) a synthetic reranking collection with a TREC run (graded qrels, judged docs outside the run, a score tie)
        run_dir_c = os.path.join(tmp, "synthetic-run")
        os.makedirs(os.path.join(run_dir_c, "qrels"))
        docs = list(data.read_jsonl(os.path.join(sample, "corpus.jsonl")))[:12]
        with open(os.path.join(run_dir_c, "corpus.jsonl"), "w") as f:
            for d in docs:
                f.write(json.dumps(d) + "\n")
        with open(os.path.join(run_dir_c, "queries.jsonl"), "w") as f:
            f.write(json.dumps({"_id": "s1", "text": queries[0]["text"]}) + "\n")
            f.write(json.dumps({"_id": "s2", "text": queries[1]["text"]}) + "\n")
        ids = [d["_id"] for d in docs]
        run = {"s1": {ids[i]: 10.0 - i for i in range(6)}, "s2": {ids[6 + i]: 5.0 for i in range(6)}}
        with open(os.path.join(run_dir_c, "run.trec"), "w") as f:
            for q, sc in run.items():
                for rank, (d, s) in enumerate(sorted(sc.items(), key=lambda x: -x[1]), 1):
                    f.write("%s Q0 %s %d %s synthetic\n" % (q, d, rank, s))
        qrels = {"s1": {ids[1]: 3, ids[3]: 1, "not-in-corpus": 2}, "s2": {ids[6]: 2, ids[11]: 1}}
        with open(os.path.join(run_dir_c, "qrels", "test.tsv"), "w") as f:
            f.write("query-id\tcorpus-id\tscore\n")
            for q, js in qrels.items():
                for d, g in js.items():
                    f.write("%s\t%s\t%d\n" % (q, d, g))
        # expected by hand: s1 ranks ids[0..5] -> gains at ranks 2 (3) and 4 (1); ideal 3, 2, 1.
        # s2: all tied at 5.0 -> trec_eval order is doc id descending
        s2_order = sorted(ids[6:12], reverse=True)
        dcg2 = sum(g / math.log2(s2_order.index(d) + 2) for d, g in qrels["s2"].items())
        expect = ((3 / math.log2(3) + 1 / math.log2(5)) / (3 + 2 / math.log2(3) + 1 / 2) + dcg2 / (2 + 1 / math.log2(3))) / 2
        got = check_run_ndcg(data.load_run(os.path.join(run_dir_c, "run.trec")), data.load_qrels(run_dir_c), round(expect, 4), "synthetic")
        assert abs(got - expect) < 1e-12, (got, expect)
        try:
            check_run_ndcg(data.load_run(os.path.join(run_dir_c, "run.trec")), data.load_qrels(run_dir_c), round(expect, 4) + 0.001, "synthetic")
            raise AssertionError("the self-check accepted a wrong expected value")
        except SystemExit as e:
            assert "SELF-CHECK FAILED" in str(e)

        config = {
            "collections": [
                {"name": "smoke-tiny", "path": coll_dir, "top_n": 20, "index": "smoke-eval-tiny"},
                {"name": "smoke-run", "path": run_dir_c, "run": "run.trec", "expect_run_ndcg10": round(expect, 4), "min_rel": 2,
                 "index": "smoke-eval-run", "fields": ["title", "text"]},
            ],
            "scorers": [
                {"name": "cross_encoder tiny-ce", "clause": "cross_encoder", "model": "tiny-ce", "windows": [5, 10]},
                {"name": "text_embedding all-minilm-l6-v2", "clause": "text_embedding", "model": "all-minilm-l6-v2", "windows": [3]},
            ],
        }
        results = run_config(client, config, out, reindex=True, make_plot=False)
        by = {(r["collection"], r["scorer"], r["window"]): r for r in results}
        assert len(results) == 8, [(r["collection"], r["scorer"], r["window"]) for r in results]
        for r in results:
            for k in ("ndcg@10", "recall@100", "mrr@10"):
                assert 0.0 <= r[k] <= 1.0, (k, r)
            assert r["latency_mean_ms"] > 0 and r["latency_p95_ms"] >= r["latency_mean_ms"] * 0.5, r
        tiny_bm25 = by[("smoke-tiny", "BM25", 0)]
        assert tiny_bm25["queries"] == 8 and tiny_bm25["ndcg@10"] > 0.3, tiny_bm25
        # reordering inside the top-20 never changes which docs are in the top 20
        for (c, s, w), r in by.items():
            if c == "smoke-tiny":
                assert abs(r["recall@100"] - tiny_bm25["recall@100"]) < 1e-12, r
                if w:
                    assert r["server_stats"]["rescored_docs"] == 8 * w, r["server_stats"]
        assert abs(by[("smoke-run", "BM25 (run file)", 0)]["ndcg@10"] - expect) < 1e-9
        assert os.path.exists(os.path.join(out, "eval.md"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        for index in ("smoke-eval-tiny", "smoke-eval-run"):
            try:
                client.request("DELETE", "/" + index)
            except Exception:  # noqa: BLE001 - cleanup only
                pass
    log("eval smoke OK (%.1f s)" % (time.time() - t0))


def run_config(client, config, out, reindex=False, max_queries=None, make_plot=True, only=None, append=False):
    results = []
    run_dir = os.path.join(out, "runs")
    os.makedirs(run_dir, exist_ok=True)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": report.machine_info(), "busy": report.busy_processes(),
            "code": report.code_version(REPO), "url": client.url, "config": config, "notes": list(config.get("notes", []))}
    previous = os.path.join(out, "eval-results.json")
    if append and os.path.exists(previous):
        # keep the rows of collections not run now (one collection at a time on a slow machine)
        with open(previous) as f:
            old = json.load(f)
        running = {c["name"] for c in config["collections"] if not only or c["name"] in only}
        results = [r for r in old["results"] if r["collection"] not in running]
        meta["earlier_runs"] = old["meta"].get("earlier_runs", []) + [
            {"date": old["meta"]["date"], "machine": old["meta"]["machine"], "busy": old["meta"].get("busy", []),
             "collections": sorted({r["collection"] for r in results})}]
        meta["collections"] = {k: v for k, v in old["meta"].get("collections", {}).items() if k not in running}
    for coll in config["collections"]:
        if only and coll["name"] not in only:
            continue
        coll = dict(coll)
        prepare_collection(client, coll, max_queries=coll.get("max_queries", max_queries), reindex=reindex)
        evaluate_collection(client, coll, config["scorers"], results, run_dir)
        meta.setdefault("collections", {})[coll["name"]] = {"queries": len(coll["_qids"]), "first_pass_hits": coll["_size"],
                                                            "min_rel": int(coll.get("min_rel", 1))}
        write_outputs(results, out, meta)  # after each collection, so a long run leaves partial results
    if make_plot:
        meta["plot"] = plot(results, os.path.join(out, "ndcg-vs-latency.png"))
    write_outputs(results, out, meta)
    return results


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:9602")
    ap.add_argument("--config", default=os.path.join(HERE, "configs", "eval.json"))
    ap.add_argument("--out", default=None, help="default: results/eval (results/smoke/eval with --smoke)")
    ap.add_argument("--collections", default=None, help="comma-separated collection names of the config to run")
    ap.add_argument("--max-queries", type=int, default=None, help="first N judged queries only (quick looks)")
    ap.add_argument("--reindex", action="store_true", help="re-create indexes even when they hold the corpus already")
    ap.add_argument("--append", action="store_true",
                    help="keep the results of other collections already in --out (run collections one at a time)")
    ap.add_argument("--smoke", action="store_true", help="seconds-long self-test against a node with the test models")
    args = ap.parse_args()
    client = Client(args.url)
    client.wait_for_node()
    if args.smoke:
        out = args.out or tempfile.mkdtemp(prefix="eval-smoke-out-")
        smoke(client, out)
        return
    out = args.out or os.path.join(REPO, "results", "eval")
    with open(args.config) as f:
        config = json.load(f)
    for coll in config["collections"]:
        if not os.path.isabs(coll["path"]):
            coll["path"] = os.path.join(REPO, coll["path"])
    only = set(args.collections.split(",")) if args.collections else None
    run_config(client, config, out, reindex=args.reindex, max_queries=args.max_queries, only=only, append=args.append)
    log("wrote %s/eval.md, eval-results.json, ndcg-vs-latency.png and runs/" % os.path.relpath(out))


if __name__ == "__main__":
    main()
