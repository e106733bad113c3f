#!/usr/bin/env python3
"""Late-interaction speed and storage, side by side in one run (results/late-interaction/bench.md):

Through a real node (the first --docs SciFact documents, token vectors from the plugin's `late_interaction` ingest
processor with the default model, one multi_vector field per encoding, one shard):
  - the plugin's `late_interaction` rescorer over stored vectors, per encoding, ColBERT and XTR, windows 100 and 1000;
  - the same MaxSim as a painless `script_score` rescore query over the float arrays in `_source` (what users of
    OpenSearch do today);
  - storage per document per encoding: the index's store size after force-merge, one index per encoding
    (reindexed from the same documents), minus an index of the same documents without vectors.
In-process (io.neuralrescore.bench.LateInteractionBench, same corpus and model): Lucene's LateInteractionRescorer
next to the plugin's shard rescorer per encoding, and doc-values bytes per token per encoding.

    /usr/bin/python3 harness/late_interaction_bench.py --url http://127.0.0.1:9741 --build-dir /tmp/build-li
    (scripts/bench-late-interaction.sh builds, starts a node and runs it)
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from rescore_harness import data, javacp, li_index, report  # noqa: E402
from rescore_harness.client import Client  # noqa: E402
from rescore_harness.stats import mean, percentile  # noqa: E402

INDEX = "li-bench"
# The inner product loop is unrolled 16 times: painless stops a script after 1,000,000 loop iterations (not
# configurable for inline or stored scripts), and a plain loop needs ~20 x 210 x 384 = 1.6 million per document.
PAINLESS = """
double total = 0.0;
def docTokens = params['_source']['tok_float'];
for (def q : params.q) {
  int n = q.size();
  double best = -1.0e30;
  for (def d : docTokens) {
    double s = 0.0;
    int i = 0;
    for (; i + 16 <= n; i += 16) {
      s += q[i] * d[i] + q[i + 1] * d[i + 1] + q[i + 2] * d[i + 2] + q[i + 3] * d[i + 3] + q[i + 4] * d[i + 4] + q[i + 5] * d[i + 5] + q[i + 6] * d[i + 6] + q[i + 7] * d[i + 7] + q[i + 8] * d[i + 8] + q[i + 9] * d[i + 9] + q[i + 10] * d[i + 10] + q[i + 11] * d[i + 11] + q[i + 12] * d[i + 12] + q[i + 13] * d[i + 13] + q[i + 14] * d[i + 14] + q[i + 15] * d[i + 15];
    }
    for (; i < n; ++i) { s += q[i] * d[i]; }
    if (s > best) { best = s; }
  }
  total += best;
}
return Math.max(total, 0.0);
"""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def query_vectors(client, texts):
    """Token vectors of each query text by the plugin's own processor (_simulate of the pipeline). These are
    document-side encodings of the query text (punctuation skipped); both the plugin clause (query_vectors) and the
    painless script get exactly these, so they compute the same MaxSim."""
    docs = [{"_source": {"title": "", "text": t}} for t in texts]
    r = client.request("POST", "/_ingest/pipeline/_simulate", {
        "pipeline": {"processors": [{"late_interaction": {"model": li_index.MODEL, "field": "text", "target_field": "q"}}]},
        "docs": docs})
    return [d["doc"]["_source"]["q"] for d in r["docs"]]


def timed_runs(client, index, bodies, warmup=1):
    for b in bodies[:warmup]:
        client.request("POST", "/%s/_search" % index, b)
    lat, took, first = [], [], []
    for b in bodies:
        r, dt = client.timed("POST", "/%s/_search" % index, b)
        lat.append(dt)
        took.append(r["took"] / 1000.0)
        hits = r["hits"]["hits"]
        first.append((hits[0]["_id"], hits[0]["_score"]) if hits else None)
    return lat, took, first


def body(window, rescore):
    b = {"query": {"match_all": {}}, "size": 10, "_source": False, "track_total_hits": False}
    if rescore is not None:
        b["rescore"] = dict(rescore, window_size=window)
    return b


def li_clause(encoding, scoring="colbert", qv=None, qtext=None, k=None):
    c = {"field": li_index.field(encoding), "scoring": scoring}
    if qv is not None:
        c["query_vectors"] = qv
    else:
        c["model"] = li_index.MODEL
        c["query_text"] = qtext
    if k:
        c["top_k_prime"] = k
    return {"late_interaction": c}


def painless_clause(qv):
    return {"query": {"rescore_query": {"script_score": {"query": {"match_all": {}},
                                                         "script": {"source": PAINLESS, "params": {"q": qv}}}},
                      "query_weight": 0.0, "rescore_query_weight": 1.0, "score_mode": "total"}}


def node_speed(client, qtexts, qvs, windows, n_plugin, n_painless, kprime):
    rows = []
    for w in windows:
        methods = [("first pass only (match_all, no rescore)", None, n_plugin)]
        for e in li_index.ENCODINGS:
            methods.append(("plugin late_interaction colbert, %s (query_vectors)" % e, lambda i, e=e: li_clause(e, qv=qvs[i]), n_plugin))
        for e in li_index.ENCODINGS:
            methods.append(("plugin late_interaction xtr k'=%d, %s (query_vectors)" % (kprime, e),
                            lambda i, e=e: li_clause(e, "xtr", qv=qvs[i], k=kprime), n_plugin))
        methods.append(("plugin late_interaction colbert, float (query_text: + query encoding)",
                        lambda i: li_clause("float", qtext=qtexts[i]), n_plugin))
        methods.append(("painless script_score MaxSim over _source float arrays", lambda i: painless_clause(qvs[i]), n_painless))
        for name, make, n in methods:
            n = min(n, len(qvs))
            bodies = [body(w, make(i) if make else None) for i in range(n)]
            t0 = time.time()
            lat, took, first = timed_runs(client, INDEX, bodies, warmup=1 if make is not None and n < 10 else 3)
            row = {"window": w, "method": name, "requests": n, "latency_mean_ms": 1000 * mean(lat),
                   "latency_p50_ms": 1000 * percentile(lat, 50), "latency_max_ms": 1000 * max(lat), "took_mean_ms": 1000 * mean(took),
                   "docs_per_s": w / mean(lat) if make else None, "first_hits": first}
            rows.append(row)
            log("  window %4d  %-72s mean %9.1f ms  p50 %9.1f ms  (%d requests, %.0f s)" % (
                w, name, row["latency_mean_ms"], row["latency_p50_ms"], n, time.time() - t0))
    return rows


def agreement(rows):
    """Top hit and score of painless vs the plugin's float ColBERT (same query vectors, same window)."""
    out = []
    for w in sorted({r["window"] for r in rows}):
        p = next(r for r in rows if r["window"] == w and r["method"].startswith("painless"))
        f = next(r for r in rows if r["window"] == w and r["method"].startswith("plugin late_interaction colbert, float (query_vectors)"))
        n = min(len(p["first_hits"]), len(f["first_hits"]))
        same = sum(1 for i in range(n) if p["first_hits"][i][0] == f["first_hits"][i][0])
        diff = max(abs(p["first_hits"][i][1] - f["first_hits"][i][1]) for i in range(n))
        out.append({"window": w, "requests": n, "same_top_hit": same, "max_abs_score_diff": diff})
    return out


def node_storage(client, n_docs):
    """Store size per doc per encoding, in the node: reindex the bench docs (float vectors kept in their _source)
    into one index per encoding holding only that field (vectors excluded from _source) and one without vectors,
    force-merge each to one segment, and subtract."""
    sizes = {}
    for enc in ("none",) + li_index.ENCODINGS:
        idx = "li-store-" + enc
        if client.exists(idx):
            client.request("DELETE", "/" + idx)
        props = {"title": {"type": "text"}, "text": {"type": "text"}}
        mapping = {"properties": props}
        src = {"index": INDEX, "_source": ["title", "text"]}
        script = None
        if enc != "none":
            props["vec"] = {"type": "multi_vector", "dims": li_index.DIMS, "encoding": enc}
            # without recovery_source_enabled: false, OpenSearch keeps the whole original _source (vectors as JSON) in
            # _recovery_source until the shard's retention leases expire (12 h): that would measure JSON, not the field
            mapping["_source"] = {"excludes": ["vec"], "recovery_source_enabled": False}
            src["_source"] = ["title", "text", "tok_float"]
            script = {"source": "ctx._source.vec = ctx._source.remove('tok_float')"}
        client.request("PUT", "/" + idx, {"settings": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": "-1"},
                                          "mappings": mapping})
        req = {"source": dict(src, size=50), "dest": {"index": idx, "pipeline": "_none"}}
        if script:
            req["script"] = script
        r = client.request("POST", "/_reindex?refresh=true&timeout=30m", req)
        if r.get("failures"):
            raise SystemExit("reindex into %s failed: %s" % (idx, r["failures"][:2]))
        client.request("POST", "/%s/_forcemerge?max_num_segments=1&flush=true" % idx)
        client.request("POST", "/%s/_refresh" % idx)
        stats = client.request("GET", "/%s/_stats/store,docs" % idx)["indices"][idx]["primaries"]
        sizes[enc] = {"store_bytes": stats["store"]["size_in_bytes"], "docs": stats["docs"]["count"]}
        log("  store %-8s: %d docs, %d bytes" % (enc, sizes[enc]["docs"], sizes[enc]["store_bytes"]))
    base = sizes["none"]["store_bytes"]
    rows = []
    for enc in li_index.ENCODINGS:
        rows.append({"encoding": enc, "docs": sizes[enc]["docs"], "store_bytes": sizes[enc]["store_bytes"],
                     "vector_bytes_per_doc": (sizes[enc]["store_bytes"] - base) / sizes[enc]["docs"]})
    for enc in ("none",) + li_index.ENCODINGS:
        client.request("DELETE", "/li-store-" + enc)
    return rows, base


def java_bench(build_dir, docs, queries, windows, rounds, kprime, work):
    out = os.path.join(work, "java-bench.json")
    args = ["--corpus", "/work/shared/data/scifact", "--docs", str(docs), "--queries", str(queries), "--windows",
            ",".join(str(w) for w in windows), "--rounds", str(rounds), "--top-k-prime", str(kprime), "--work", work, "--out", out]
    jvm = ["-Xmx3g", "--add-modules", "jdk.incubator.vector", "-Dtests.bundled.models=" + os.path.join(build_dir, "bundled-models"),
           "-Dtests.repo.root=" + REPO, "-Djava.io.tmpdir=" + work]
    cmd = javacp.java_command(build_dir, "io.neuralrescore.bench.LateInteractionBench", args, jvm)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for line in p.stdout.splitlines():
        if not line.startswith(("WARNING", "SLF4J")):
            log("  [java] " + line)
    if p.returncode != 0:
        raise SystemExit("error: LateInteractionBench failed (exit %d)" % p.returncode)
    with open(out) as f:
        return json.load(f)


def write_report(out, meta, speed, agree, storage, store_base, java):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "bench-results.json"), "w") as f:
        json.dump({"meta": meta, "node_speed": speed, "painless_agreement": agree, "node_storage": storage,
                   "node_storage_base_bytes": store_base, "java": java}, f, indent=1)
    c = java["conditions"]
    L = ["# Late interaction: speed and storage", "",
         "Measured %s on %s, in one run of `scripts/bench-late-interaction.sh` (`harness/late_interaction_bench.py`)." % (meta["date"], meta["machine"]),
         "**The machine was shared** (2 cores; a training job and other engineers' builds ran at the same time; load "
         "average %s at the start, %s at the end), so absolute times are inflated and noisy; methods were run "
         "interleaved in the same period, so the ratios are the point." % (meta["load_start"], meta["load_end"]), ""]
    if meta.get("busy"):
        L += ["Other processes busy at the start:", ""] + ["- " + b for b in meta["busy"]] + [""]
    L += ["## Through the node: plugin rescorer vs painless script_score", "",
          "Conditions: OpenSearch 3.8.0, one node (heap %s), index `%s` of the first %d SciFact documents (title + text, "
          "%.1f MiniLM tokens per document on average, 384 dims), one shard, force-merged; token vectors written by the "
          "plugin's `late_interaction` ingest processor with `all-minilm-l6-v2`, into one `multi_vector` field per encoding, "
          "the float ones also kept in `_source` for painless. First pass `match_all`, so the window is always full; "
          "`size` 10, `_source` off. Query vectors: %d SciFact queries encoded by the same processor (`_simulate`), %.1f tokens "
          "per query on average, given as `query_vectors` to the plugin and as `params.q` to painless (same MaxSim); one "
          "row also sends `query_text` (encoding on the coordinator included). Latency = client wall time per request "
          "(1 client, 1 to 3 warm-up requests per row not counted); docs/s = window / mean latency." % (
              meta["heap"], INDEX, meta["docs"], c["tokens_per_doc"], meta["queries"], meta["query_tokens"]), ""]
    rows = []
    for r in speed:
        rows.append([r["window"], r["method"], r["requests"], "%.1f" % r["latency_mean_ms"], "%.1f" % r["latency_p50_ms"],
                     "%.1f" % r["took_mean_ms"], ("%.0f" % r["docs_per_s"]) if r["docs_per_s"] else "-"])
    L += [report.md_table(["window", "method", "requests", "mean (ms)", "p50 (ms)", "took mean (ms)", "docs/s"], rows,
                          ["---:", "---", "---:", "---:", "---:", "---:", "---:"]), ""]
    for a in agree:
        L.append("- Same MaxSim check, window %d: painless and the plugin's float ColBERT put the same document first in %d of %d "
                 "requests; largest top-score difference %.2g." % (a["window"], a["same_top_hit"], a["requests"], a["max_abs_score_diff"]))
    speedups = []
    for w in sorted({r["window"] for r in speed}):
        p = next(r for r in speed if r["window"] == w and r["method"].startswith("painless"))
        for r in speed:
            if r["window"] == w and r["method"].startswith("plugin late_interaction colbert") and "query_vectors" in r["method"]:
                speedups.append("%s at window %d: %.0fx faster than painless" % (r["method"].split(", ")[1].split(" ")[0], w,
                                                                               p["latency_mean_ms"] / r["latency_mean_ms"]))
    L += ["- Plugin ColBERT per encoding vs painless (mean latency): " + "; ".join(speedups) + ".", ""]

    L += ["## In-process: Lucene's LateInteractionRescorer vs the plugin's shard rescorer", "",
          "Conditions: `io.neuralrescore.bench.LateInteractionBench`, one JVM (Java %s, heap 3g, Panama vector API %s), one "
          "thread; a Lucene index (force-merged, MMapDirectory) of the same %d SciFact documents encoded in-process by the plugin's "
          "token encoder (%.1f tokens/doc), with a `LateInteractionField` (= the plugin's `float` encoding, byte for byte) "
          "and `float16`/`int8`/`bit` doc-values copies; %d queries (%.1f tokens each); each window is a random set of "
          "documents; %d timed rounds over all queries after a warm-up, methods interleaved per query. Lucene uses "
          "DOT_PRODUCT ((1 + dot) / 2 per token); the plugin rows are its full shard path (doc-values read, decode, "
          "MaxSim or XTR, ordering). XTR k' = %d." % (c["java"], "on" if c["vector_module"] else "off", c["docs"], c["tokens_per_doc"],
                                                     c["queries"], c["tokens_per_query"], c["rounds"], c["xtr_top_k_prime"]), ""]
    rows = []
    for r in java["timings"]:
        rows.append([r["window"], r["method"], r["calls"], "%.2f" % r["mean_ms"], "%.2f" % r["p50_ms"], "%.2f" % r["p90_ms"],
                     "%.0f" % r["docs_per_s"]])
    L += [report.md_table(["window", "method", "calls", "mean (ms)", "p50 (ms)", "p90 (ms)", "docs/s"], rows,
                          ["---:", "---", "---:", "---:", "---:", "---:", "---:"]), ""]
    a = java["agreement"]
    L += ["- Same MaxSim check (window %d, %d queries): Lucene's score = (query tokens + plugin float score) / 2 within %.2g "
          "over %d hits; identical order for %d of %d queries." % (a["window"], a["queries"], a["max_abs_diff_lucene_vs_(nq+plugin)/2"],
                                                                  a["hits_compared"], a["queries_with_identical_order"], a["queries"]),
          "- Load average during the in-process run: %s at the start, %s at the end." % (c["load_average_start"], c["load_average_end"]), ""]

    L += ["## Storage per document per encoding", "",
          "Token vectors: %d dims, %.1f tokens per document (SciFact title + text, MiniLM tokenizer, max 256, punctuation "
          "skipped). Stored bytes per token = `VectorEncoding.bytesPerToken(dims)`; each document adds a 4-byte header." % (
              c["dims"], c["tokens_per_doc"]), ""]
    node = {r["encoding"]: r for r in storage}
    rows = []
    for r in java["storage"]:
        n = node.get(r["encoding"])
        rows.append([r["encoding"], r["bytes_per_token_formula"], "%.0f" % r["payload_bytes_per_doc"],
                     "%.0f" % r["doc_values_bytes_per_doc"], "%.1f" % r["doc_values_bytes_per_token"],
                     "%.0f" % n["vector_bytes_per_doc"] if n else "-",
                     "%.1fx" % (java["storage"][0]["doc_values_bytes_per_doc"] / r["doc_values_bytes_per_doc"])])
    L += [report.md_table(["encoding", "bytes/token (formula)", "payload bytes/doc", "Lucene doc values bytes/doc (in-process)",
                           "doc values bytes/token", "node store bytes/doc (index minus no-vector index)", "smaller than float"], rows,
                          ["---", "---:", "---:", "---:", "---:", "---:", "---:"]), "",
          "- In-process: one Lucene index per encoding holding only that field, force-merged, no compound file; "
          "`.dvd` + `.dvm` bytes / documents. Binary doc values are stored uncompressed, so this is the payload plus ~8 bytes.",
          "- Node: `_stats/store` of an index per encoding with the %d documents reindexed from `%s` (vectors excluded from "
          "`_source`, `recovery_source_enabled: false`), force-merged to one segment, minus the same index without vectors "
          "(%d bytes). With the default recovery source, a freshly indexed shard also keeps each document's original "
          "`_source`, vectors as JSON, until its retention leases expire (12 h by default)." % (meta.get("storage_docs", meta["docs"]), INDEX, store_base), ""]
    with open(os.path.join(out, "bench.md"), "w") as f:
        f.write("\n".join(L) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:9741")
    ap.add_argument("--build-dir", default=os.path.join(REPO, "target"))
    ap.add_argument("--out", default=os.path.join(REPO, "results", "late-interaction"))
    ap.add_argument("--docs", type=int, default=1100)
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--windows", default="100,1000")
    ap.add_argument("--painless-requests", default="5,3", help="requests per window for painless (it is slow)")
    ap.add_argument("--top-k-prime", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds of the in-process benchmark")
    ap.add_argument("--heap", default="?")
    ap.add_argument("--skip-java", action="store_true")
    ap.add_argument("--storage-only", action="store_true",
                    help="re-measure node storage only (indexes the docs if needed) and rewrite bench.md from --out/bench-results.json")
    a = ap.parse_args()
    windows = [int(w) for w in a.windows.split(",")]
    painless_n = [int(x) for x in a.painless_requests.split(",")]
    client = Client(a.url, timeout=7200)
    client.wait_for_node()
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": report.machine_info(), "busy": report.busy_processes(),
            "load_start": open("/proc/loadavg").read().strip(), "heap": a.heap, "docs": a.docs}
    corpus = data.load_corpus("/work/shared/data/scifact")
    ids = list(corpus)[:a.docs]
    sub = {d: corpus[d] for d in ids}
    log("== index %s: %d SciFact docs through the late_interaction processor" % (INDEX, len(sub)))
    li_index.ensure_index(client, INDEX, sub, keep_in_source=("tok_float",), label=INDEX, log=log)
    if a.storage_only:
        with open(os.path.join(a.out, "bench-results.json")) as f:
            old = json.load(f)
        log("== node storage")
        storage, base = node_storage(client, a.docs)
        old["meta"]["storage_docs"] = a.docs
        write_report(a.out, old["meta"], old["node_speed"], old["painless_agreement"], storage, base, old["java"])
        log("wrote %s (storage re-measured %s)" % (os.path.join(a.out, "bench.md"), time.strftime("%Y-%m-%d %H:%M")))
        return
    qtexts = list(data.load_queries("/work/shared/data/scifact").values())[:a.queries]
    qvs = query_vectors(client, qtexts)
    meta["queries"] = len(qvs)
    meta["query_tokens"] = sum(len(q) for q in qvs) / len(qvs)
    log("== node speed (windows %s)" % windows)
    speed = []
    for w, n_p in zip(windows, painless_n + [painless_n[-1]] * len(windows)):
        speed += node_speed(client, qtexts, qvs, [w], a.queries, n_p, a.top_k_prime)
    agree = agreement(speed)
    log("== node storage")
    storage, base = node_storage(client, a.docs)
    java = None
    if not a.skip_java:
        log("== in-process benchmark")
        java = java_bench(a.build_dir, a.docs, a.queries, windows, a.rounds, a.top_k_prime, os.path.join(a.build_dir, "li-bench"))
    meta["load_end"] = open("/proc/loadavg").read().strip()
    if java:
        write_report(a.out, meta, speed, agree, storage, base, java)
        log("wrote %s" % os.path.join(a.out, "bench.md"))
    else:
        with open(os.path.join(a.out, "bench-node-results.json"), "w") as f:
            json.dump({"meta": meta, "node_speed": speed, "agreement": agree, "storage": storage}, f, indent=1)


if __name__ == "__main__":
    main()
