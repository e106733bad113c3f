#!/usr/bin/env python3
"""Speed harness: end-to-end rescoring through _search next to the raw ONNX Runtime ceiling, in one run.

For each scorer of the config (a rescore clause + the model folder the node loaded it from) it measures, against a
running node:
  - end-to-end: queries/s, p50/p99 latency and rescored pairs/s through `_search` at each window size (10/100/1000)
    with 1 and 8 concurrent clients (one keep-alive connection per client);
  - the ceiling: io.neuralrescore.bench.RawOnnxBench, ONNX Runtime called directly in one JVM on the same model and
    the SAME (query, text) pairs (the first-pass windows of the 1-client requests, tokenized by the plugin's
    TextTokenizer), with length-bucketed batches (the plugin's BatchPlanner, same budget) and with padded fixed-size
    batches in arrival order; the plugin's pairs/s is divided by each. The plugin's scores are compared with the raw
    scores of the same pairs (max |diff| in the report), which proves the pairs and tokens are the same.
Plus (--jmh) the JMH micro benchmarks of plugin-src/test/java/io/neuralrescore/bench.

Output under --out: bench.md (report), bench-results.json, pairs-per-second.png, latency.png, jmh.json.

    scripts/bench.sh                      (builds, starts a node with the speed models, runs everything, stops it)
    /usr/bin/python3 harness/bench.py --url http://127.0.0.1:9601 --build-dir /tmp/build-harness --jmh
    /usr/bin/python3 harness/bench.py --url http://127.0.0.1:9400 --build-dir target --smoke
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from rescore_harness import data, javacp, report, search  # noqa: E402
from rescore_harness.client import Client, index_corpus  # noqa: E402
from rescore_harness.stats import mean, percentile  # noqa: E402

REPO = os.path.dirname(HERE)
STAT_KEYS = ("rescored_docs", "inference_batches", "inference_sequences", "inference_tokens", "padded_tokens", "inference_nanos")


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def first_pass(qtext):
    """BM25 over title + text, plus every other document at score 0, so each query has as many hits as the
    largest window (the speed of rescoring, not recall, is measured here)."""
    return {"bool": {"should": [search.bm25_query(qtext), {"constant_score": {"filter": {"match_all": {}}, "boost": 0.0}}]}}


def resolve(path, build_dir):
    path = path.replace("${BUILD_DIR}", build_dir)
    return path if os.path.isabs(path) else os.path.join(REPO, path)


class Cell:
    """One measurement: a scorer at one window with N concurrent clients."""

    def __init__(self, client, index, scorer, window, clients, queries, requests, fields):
        self.client, self.index, self.scorer, self.window = client, index, scorer, window
        self.clients, self.queries, self.requests, self.fields = clients, queries, requests, fields

    def body(self, qtext):
        s = dict(self.scorer)
        s.setdefault("fields", self.fields)
        return search.search_body(first_pass(qtext), self.window, search.rescore_clause(s, qtext, self.window))

    def run(self):
        todo = list(range(self.requests))
        lock = threading.Lock()
        lat = [None] * self.requests
        hits = [None] * self.requests
        errors = []

        def worker():
            while True:
                with lock:
                    if not todo or errors:
                        return
                    i = todo.pop(0)
                qid, qtext = self.queries[i % len(self.queries)]
                try:
                    r, dt = self.client.timed("POST", "/%s/_search" % self.index, self.body(qtext))
                except Exception as e:  # noqa: BLE001 - reported below
                    errors.append(e)
                    return
                lat[i] = dt
                hits[i] = [(h["_id"], h["_score"]) for h in r["hits"]["hits"]]

        before = self.client.stats()
        threads = [threading.Thread(target=worker) for _ in range(self.clients)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        after = self.client.stats()
        if errors:
            raise errors[0]
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in STAT_KEYS}
        pairs = delta["rescored_docs"]
        return {
            "scorer": self.scorer["name"], "window": self.window, "clients": self.clients, "requests": self.requests,
            "wall_s": wall, "qps": self.requests / wall, "pairs": pairs, "pairs_per_s": pairs / wall,
            "p50_ms": 1000 * percentile(lat, 50), "p99_ms": 1000 * percentile(lat, 99), "mean_ms": 1000 * mean(lat),
            "inference_share": delta["inference_nanos"] / 1e9 / wall,
            "padded_token_share": delta["padded_tokens"] / max(1, delta["padded_tokens"] + delta["inference_tokens"]),
            "server_stats": delta, "load_avg_1m": os.getloadavg()[0], "_hits": hits,
        }


def collect_pairs(client, index, queries, window, n, fields):
    """The first-pass window of each of the first n queries: what the plugin will rescore for those requests."""
    groups = []
    for qid, qtext in queries[:n]:
        r = client.request("POST", "/%s/_search" % index, search.search_body(first_pass(qtext), window, source=fields))
        ids, texts = [], []
        for h in r["hits"]["hits"]:
            src = h.get("_source") or {}
            ids.append(h["_id"])
            texts.append(data.doc_text(src, fields))
        groups.append({"group": "w%d" % window, "query": qtext, "texts": texts, "_ids": ids})
    return groups


class RawServer:
    """RawOnnxBench in serve mode: loads the model, tokenizes the pairs of all groups, warms up, then runs one group in
    one batching mode per request, so its runs interleave with the plugin's requests on the same pairs."""

    def __init__(self, build_dir, model_dir, groups, raw_cfg, max_length, workdir, tag):
        pairs_file = os.path.join(workdir, "pairs-%s.jsonl" % tag)
        with open(pairs_file, "w", encoding="utf-8") as f:
            for g in groups:
                f.write(json.dumps({k: g[k] for k in ("group", "query", "texts")}, ensure_ascii=False) + "\n")
        args = ["--serve", "true", "--model-dir", model_dir, "--pairs", pairs_file,
                "--threads", str(raw_cfg["threads"]), "--max-tokens", str(raw_cfg.get("max_tokens", 8192)),
                "--max-batch", str(raw_cfg.get("max_batch", 64)), "--padded-batch", str(raw_cfg.get("padded_batch", 32))]
        if max_length:
            args += ["--max-length", str(max_length)]
        cmd = javacp.java_command(build_dir, "io.neuralrescore.bench.RawOnnxBench", args, ["-Xmx2g", "-Djava.io.tmpdir=" + workdir])
        self.log_path = os.path.join(workdir, "raw-%s.log" % tag)
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, text=True, bufsize=1)
        line = self._read()
        if not line.startswith("READY "):
            self.fail("did not start: " + line)
        self.info = json.loads(line[len("READY "):])

    def _read(self):
        line = self.proc.stdout.readline()
        if not line:
            self.fail("exited with %s" % self.proc.poll())
        return line.strip()

    def fail(self, why):
        self.proc.kill()
        self._log.close()
        with open(self.log_path) as f:
            tail = f.read()[-3000:]
        raise SystemExit("error: RawOnnxBench %s\n%s" % (why, tail))

    def run(self, group, mode):
        self.proc.stdin.write("%d %s\n" % (group, mode))
        self.proc.stdin.flush()
        return json.loads(self._read())

    def close(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.flush()
            self.proc.wait(timeout=60)
        finally:
            self._log.close()


def interleaved_cell(client, index, scorer, window, queries, groups, first_group, raw, fields):
    """The 1-client cell: request i of the plugin, then raw bucketed and raw padded on the same pairs (the order
    reversed every other request), so all three see the same machine. Returns the plugin cell and the raw runs."""
    cell = Cell(client, index, scorer, window, 1, queries, len(groups), fields)
    lat, hits = [], []
    runs = {"bucketed": [], "padded": []}
    before = client.stats()
    for i in range(len(groups)):
        for step in (("plugin", "bucketed", "padded") if i % 2 == 0 else ("padded", "bucketed", "plugin")):
            if step == "plugin":
                r, dt = client.timed("POST", "/%s/_search" % index, cell.body(queries[i % len(queries)][1]))
                lat.append(dt)
                hits.append([(h["_id"], h["_score"]) for h in r["hits"]["hits"]])
            elif raw is not None:
                runs[step].append(raw.run(first_group + i, step))
    after = client.stats()
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in STAT_KEYS}
    busy = sum(lat)  # requests are sequential: the plugin's own time, raw runs excluded
    pairs = delta["rescored_docs"]
    c = {
        "scorer": scorer["name"], "window": window, "clients": 1, "requests": len(groups), "wall_s": busy, "qps": len(groups) / busy,
        "pairs": pairs, "pairs_per_s": pairs / busy, "p50_ms": 1000 * percentile(lat, 50), "p99_ms": 1000 * percentile(lat, 99),
        "mean_ms": 1000 * mean(lat), "inference_share": delta["inference_nanos"] / 1e9 / busy,
        "padded_token_share": delta["padded_tokens"] / max(1, delta["padded_tokens"] + delta["inference_tokens"]),
        "server_stats": delta, "load_avg_1m": os.getloadavg()[0], "_hits": hits, "_lat": lat,
    }
    return c, runs


def compare_scores(cell, groups, raw_scores):
    """Max |plugin score - raw score| over the pairs of the 1-client requests (same doc ids)."""
    worst = 0.0
    n = 0
    for i, g in enumerate(groups):
        if i >= len(cell["_hits"]):
            break
        plugin = dict(cell["_hits"][i])
        for d, s in zip(g["_ids"], raw_scores[i]):
            if d in plugin:
                worst = max(worst, abs(plugin[d] - s))
                n += 1
    return worst, n


def run_jmh(build_dir, out, args_extra=None):
    """JMH over the classes built by `mvn -Pbench test-compile` into build_dir (scripts/bench.sh does that)."""
    if not os.path.exists(os.path.join(build_dir, "test-classes", "META-INF", "BenchmarkList")):
        raise SystemExit("error: no JMH BenchmarkList in %s/test-classes; build with: mvn -Pbench test-compile -Dbuild.dir=%s"
                         % (build_dir, build_dir))
    result = os.path.join(out, "jmh.json")
    jmh_args = ["-f", "1", "-wi", "3", "-w", "1s", "-i", "5", "-r", "1s", "-bm", "avgt", "-tu", "us",
                "-jvmArgsAppend", "--add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Dbench.repo.root=" + REPO,
                "-rf", "json", "-rff", result] + (args_extra or [])
    cmd = javacp.java_command(build_dir, "org.openjdk.jmh.Main", jmh_args, ["-Dbench.repo.root=" + REPO])
    log("  JMH: %s" % " ".join(jmh_args))
    p = subprocess.run(cmd, cwd=REPO)
    if p.returncode != 0:
        raise SystemExit("error: JMH failed (exit %d)" % p.returncode)
    with open(result) as f:
        return json.load(f)


def jmh_rows(jmh):
    rows = []
    for b in jmh:
        name = b["benchmark"].replace("io.neuralrescore.bench.", "")
        params = ", ".join("%s=%s" % kv for kv in sorted((b.get("params") or {}).items()))
        m = b["primaryMetric"]
        err = m.get("scoreError")
        rows.append([name, params or "-", "%.3f" % m["score"], ("± %.3f" % err) if isinstance(err, (int, float)) and err == err else "", m["scoreUnit"]])
    return rows


def write_report(out, meta, cells, raws, jmh):
    os.makedirs(out, exist_ok=True)
    clean_cells = [{k: v for k, v in c.items() if not k.startswith("_")} for c in cells]
    with open(os.path.join(out, "bench-results.json"), "w") as f:
        json.dump({"meta": meta, "cells": clean_cells, "raw": raws, "jmh": jmh}, f, indent=1)
    lines = ["# Rescoring speed: end to end through _search vs raw ONNX Runtime", "",
             "Measured %s on %s; code %s." % (meta["date"], meta["machine"], meta.get("code", "?")), ""]
    if meta.get("busy"):
        lines += ["Other processes busy at the start of the run:", ""] + ["- " + b for b in meta["busy"]] + [""]
    lines += ["- " + n for n in meta.get("notes", [])] + [""]
    lines += ["## End to end (`_search` with a rescore clause)", ""]
    rows = []
    for c in cells:
        rows.append([c["scorer"], c["window"], c["clients"], c["requests"], "%.2f" % c["qps"], "%.0f" % c["p50_ms"], "%.0f" % c["p99_ms"],
                     "%.1f" % c["pairs_per_s"], "%.0f%%" % (100 * c["inference_share"]), "%.0f%%" % (100 * c["padded_token_share"]),
                     "%.1f" % c["load_avg_1m"]])
    lines.append(report.md_table(
        ["scorer", "window", "clients", "requests", "queries/s", "p50 ms", "p99 ms", "pairs/s", "inference share", "padding share",
         "load avg"], rows,
        ["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]))
    lines += ["", "inference share: the plugin's inference_nanos (time inside ONNX Runtime batches, stats API) / wall time of the "
              "cell. padding share: padded tokens / all tokens fed to the model. load avg: 1-minute load average at the end of "
              "the cell (2 cores: above 2 means other work competed).", ""]
    lines += ["## Against the ceiling (raw ONNX Runtime in one process, same model, same pairs)", ""]
    rows = []
    for r in raws:
        rows.append([r["scorer"], r["window"], r["pairs"], "%.1f" % r["tokens_per_pair"], "%.1f" % r["plugin_1c"],
                     "%.1f" % r["plugin_8c"] if r.get("plugin_8c") else "-",
                     "%.1f (%.0f%%)" % (r["raw_bucketed"], 100 * r["raw_bucketed_padding"]), "%.1f (%.0f%%)" % (r["raw_padded"], 100 * r["raw_padded_padding"]),
                     "%.2f" % (r["raw_bucketed"] / r["raw_padded"]),
                     "%.2f (%.2f)" % (r["plugin_1c"] / r["raw_bucketed"], r["median_ratio_bucketed"]),
                     "%.2f (%.2f)" % (r["plugin_1c"] / r["raw_padded"], r["median_ratio_padded"]),
                     "%.0f" % r["tokenize_pairs_per_s"], "%.1e" % r["max_score_diff"]])
    lines.append(report.md_table(
        ["scorer", "window", "pairs", "tokens/pair", "plugin pairs/s (1 client)", "plugin pairs/s (8 clients)", "raw bucketed pairs/s (padding)",
         "raw padded pairs/s (padding)", "bucketed/padded", "plugin/raw-bucketed (median per request)",
         "plugin/raw-padded (median per request)", "tokenize pairs/s", "max abs score diff"], rows,
        ["---", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:", "---:"]))
    lines += ["", "Raw: one JVM, one thread calling OrtSession.run with the plugin's session options (intra-op threads = %s, "
              "ALL_OPT, sequential); inference time only (tokenization apart: 'tokenize pairs/s'). Bucketed = BatchPlanner.plan(max_tokens %s, "
              "max_batch %s) per request window, as the plugin; padded = fixed batches of %s in arrival order, each padded to its longest "
              "(padding: padded share of the tokens fed). Each 1-client plugin request is interleaved with the raw runs of the same pairs "
              "(order alternating), so the ratios compare like with like on a noisy machine; ratios use the 1-client plugin figure "
              "(in brackets: median of the per-request ratios). max abs score diff: largest |plugin _score - raw score| over the same pairs."
              % (meta["raw"].get("threads"), meta["raw"].get("max_tokens", 8192), meta["raw"].get("max_batch", 64), meta["raw"].get("padded_batch", 32)), ""]
    if jmh:
        lines += ["## Micro benchmarks (JMH, average time per call)", ""]
        lines.append(report.md_table(["benchmark", "params", "score", "error (99.9%)", "unit"], jmh_rows(jmh),
                                     ["---", "---", "---:", "---:", "---"]))
        lines.append("")
    for png in ("pairs-per-second.png", "latency.png"):
        if os.path.exists(os.path.join(out, png)):
            lines += ["![%s](%s)" % (png, png), ""]
    with open(os.path.join(out, "bench.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def plots(out, cells, raws):
    if not report.have_matplotlib():
        log("  matplotlib not installed: no charts")
        return
    plt = report.pyplot()
    scorers = list(dict.fromkeys(c["scorer"] for c in cells))
    windows = sorted({c["window"] for c in cells})
    # pairs/s: plugin 1 and 8 clients, raw bucketed, raw padded, per scorer and window
    fig, axes = plt.subplots(1, len(scorers), figsize=(5.5 * len(scorers), 4.5), squeeze=False)
    for ax, s in zip(axes[0], scorers):
        series = [("plugin, 1 client", lambda w: next((c["pairs_per_s"] for c in cells if c["scorer"] == s and c["window"] == w and c["clients"] == 1), 0)),
                  ("plugin, 8 clients", lambda w: next((c["pairs_per_s"] for c in cells if c["scorer"] == s and c["window"] == w and c["clients"] > 1), 0)),
                  ("raw ORT, bucketed", lambda w: next((r["raw_bucketed"] for r in raws if r["scorer"] == s and r["window"] == w), 0)),
                  ("raw ORT, padded", lambda w: next((r["raw_padded"] for r in raws if r["scorer"] == s and r["window"] == w), 0))]
        width = 0.2
        for k, (label, f) in enumerate(series):
            ax.bar([i + (k - 1.5) * width for i in range(len(windows))], [f(w) for w in windows], width, label=label)
        ax.set_xticks(range(len(windows)))
        ax.set_xticklabels(["window %d" % w for w in windows])
        ax.set_ylabel("pairs / s")
        ax.set_title(s, fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "pairs-per-second.png"), dpi=110)
    plt.close(fig)
    # latency p50 (bar) and p99 (tick) per scorer / window / clients
    fig, axes = plt.subplots(1, len(scorers), figsize=(5.5 * len(scorers), 4.5), squeeze=False)
    for ax, s in zip(axes[0], scorers):
        clients = sorted({c["clients"] for c in cells if c["scorer"] == s})
        width = 0.8 / max(1, len(clients))
        for k, n in enumerate(clients):
            xs, p50, p99 = [], [], []
            for i, w in enumerate(windows):
                c = next((c for c in cells if c["scorer"] == s and c["window"] == w and c["clients"] == n), None)
                if c:
                    xs.append(i + (k - (len(clients) - 1) / 2) * width)
                    p50.append(c["p50_ms"])
                    p99.append(c["p99_ms"])
            ax.bar(xs, p50, width, label="p50, %d client%s" % (n, "s" if n > 1 else ""))
            ax.scatter(xs, p99, marker="_", s=300, color="black", zorder=3, label="p99" if k == 0 else None)
        ax.set_yscale("log")
        ax.set_xticks(range(len(windows)))
        ax.set_xticklabels(["window %d" % w for w in windows])
        ax.set_ylabel("latency per request (ms, log scale)")
        ax.set_title(s, fontsize=9)
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "latency.png"), dpi=110)
    plt.close(fig)


def run_bench(client, cfg, build_dir, out, workdir, do_raw=True, jmh=None):
    coll = cfg["collection"]
    path = resolve(coll["path"], build_dir)
    fields = coll.get("fields", ["title", "text"])
    index = coll.get("index", "bench-" + coll["name"])
    log("== bench collection %s (%s)" % (coll["name"], path))
    corpus = data.load_corpus(path)
    if coll.get("max_docs"):
        corpus = dict(list(corpus.items())[: coll["max_docs"]])
    qmap = data.load_queries(path)
    qids = sorted(qmap, key=lambda q: (len(q), q))
    queries = [(q, qmap[q]) for q in qids]
    index_corpus(client, index, corpus, recreate=cfg.get("reindex", False), label=coll["name"])
    windows = cfg["windows"]
    client_counts = cfg["clients"]
    raw_cfg = dict(cfg.get("raw", {}))
    raw_cfg.setdefault("threads", os.cpu_count() or 1)
    meta = {"date": time.strftime("%Y-%m-%d %H:%M"), "machine": report.machine_info(), "busy": report.busy_processes(),
            "code": report.code_version(REPO), "url": client.url, "collection": coll["name"], "docs": len(corpus), "windows": windows, "clients": client_counts,
            "raw": raw_cfg, "notes": list(cfg.get("notes", []))}

    def requests_for(window, clients):
        table = cfg["requests"][str(window)]
        return table[0] if clients == 1 else max(table[1], clients)

    # the pairs the 1-client requests rescore, per window; one group per request
    pair_groups = {w: collect_pairs(client, index, queries, w, requests_for(w, 1), fields) for w in windows}
    all_groups = [g for w in windows for g in pair_groups[w]]
    first_group = {}
    for w in windows:
        first_group[w] = sum(len(pair_groups[x]) for x in windows[: windows.index(w)])
    cells, raws = [], []
    for scorer in cfg["scorers"]:
        label = scorer["name"]
        log("== %s" % label)
        raw = None
        if do_raw:
            raw = RawServer(build_dir, resolve(scorer["model_dir"], build_dir), all_groups, raw_cfg, scorer.get("max_length"), workdir,
                            scorer["model"])
        try:
            for w in (windows[0], windows[0], min(windows[-1], 100)):  # warm-up: model load, JIT
                Cell(client, index, scorer, w, 1, queries, 1, fields).run()
            for w in windows:
                for n in client_counts:
                    if n == 1:
                        cell, runs = interleaved_cell(client, index, scorer, w, queries, pair_groups[w], first_group[w], raw, fields)
                    else:
                        cell, runs = Cell(client, index, scorer, w, n, queries, requests_for(w, n), fields).run(), None
                    cells.append(cell)
                    log("  window %4d, %d client%s: %3d requests in %6.1f s: %6.2f q/s  p50 %7.0f ms  p99 %7.0f ms  %6.1f pairs/s  "
                        "inference %3.0f%% of wall  (load %.1f)" % (w, n, "s" if n > 1 else " ", cell["requests"], cell["wall_s"], cell["qps"],
                                                                     cell["p50_ms"], cell["p99_ms"], cell["pairs_per_s"],
                                                                     100 * cell["inference_share"], cell["load_avg_1m"]))
                    if runs and raw is not None:
                        raws.append(raw_row(label, scorer["model"], w, cell, runs, pair_groups[w], cells, client_counts, raw.info))
                if raw is not None:
                    r = raws[-1]
                    r["plugin_8c"] = next((c["pairs_per_s"] for c in cells if c["scorer"] == label and c["window"] == w and c["clients"] > 1), None)
                    log("  raw ORT  window %4d: bucketed %6.1f pairs/s, padded %6.1f pairs/s (interleaved with the 1-client requests); "
                        "plugin/raw-bucketed %.2f, plugin/raw-padded %.2f (median per request %.2f, %.2f); max |plugin - raw score| %.1e over %d pairs"
                        % (w, r["raw_bucketed"], r["raw_padded"], r["plugin_1c"] / r["raw_bucketed"], r["plugin_1c"] / r["raw_padded"],
                           r["median_ratio_bucketed"], r["median_ratio_padded"], r["max_score_diff"], r["compared_pairs"]))
        finally:
            if raw is not None:
                raw.close()
    meta["jmh"] = bool(jmh)
    plots(out, cells, raws)
    write_report(out, meta, cells, raws, jmh)
    return cells, raws


def raw_row(label, model, window, cell, runs, groups, cells, client_counts, info):
    def rate(rs):
        return sum(r["pairs"] for r in rs) / (sum(r["nanos"] for r in rs) / 1e9)

    def padding(rs):
        pad = sum(r["padded_tokens"] for r in rs)
        return pad / max(1, pad + sum(r["real_tokens"] for r in rs))

    per_request = {m: [] for m in runs}
    for i, lat in enumerate(cell["_lat"]):
        plugin_rate = len(groups[i]["texts"]) / lat
        for m in runs:
            per_request[m].append(plugin_rate / (runs[m][i]["pairs"] / (runs[m][i]["nanos"] / 1e9)))
    diff, compared = compare_scores(cell, groups, [r["scores"] for r in runs["bucketed"]])
    return {"scorer": label, "model": model, "window": window, "pairs": sum(r["pairs"] for r in runs["bucketed"]),
            "plugin_1c": cell["pairs_per_s"], "plugin_8c": None,
            "raw_bucketed": rate(runs["bucketed"]), "raw_padded": rate(runs["padded"]),
            "raw_bucketed_padding": padding(runs["bucketed"]), "raw_padded_padding": padding(runs["padded"]),
            "raw_bucketed_batches": sum(r["batches"] for r in runs["bucketed"]), "raw_padded_batches": sum(r["batches"] for r in runs["padded"]),
            "median_ratio_bucketed": percentile(per_request["bucketed"], 50), "median_ratio_padded": percentile(per_request["padded"], 50),
            "tokenize_pairs_per_s": info["tokenize_pairs_per_s"],
            "tokens_per_pair": sum(r["real_tokens"] for r in runs["bucketed"]) / max(1, sum(r["pairs"] for r in runs["bucketed"])),
            "max_score_diff": diff, "compared_pairs": compared}


def smoke(client, build_dir):
    t0 = time.time()
    sample = os.path.join(HERE, "data", "scifact-sample")
    work = tempfile.mkdtemp(prefix="bench-smoke-")
    cfg = {
        "collection": {"name": "smoke", "path": sample, "index": "smoke-bench", "max_docs": 120},
        "windows": [4, 12], "clients": [1, 2], "requests": {"4": [3, 4], "12": [2, 2]},
        "reindex": True,
        "raw": {"threads": 1, "reps": 1, "padded_batch": 5, "max_tokens": 8192, "max_batch": 64},
        "scorers": [
            {"name": "cross_encoder tiny-ce", "clause": "cross_encoder", "model": "tiny-ce", "model_dir": "models/test/tiny-ce"},
            {"name": "text_embedding tiny-bi", "clause": "text_embedding", "model": "tiny-bi", "model_dir": "models/test/tiny-bi"},
        ],
    }
    try:
        cells, raws = run_bench(client, cfg, build_dir, work, work)
        assert len(cells) == 8 and len(raws) == 4, (len(cells), len(raws))
        for c in cells:
            assert c["qps"] > 0 and c["p99_ms"] >= c["p50_ms"] > 0, c
            assert c["pairs"] == c["requests"] * c["window"], c
        for r in raws:
            assert r["raw_bucketed"] > 0 and r["raw_padded"] > 0 and r["plugin_1c"] > 0, r
            assert r["compared_pairs"] == r["pairs"], r
            assert r["max_score_diff"] < 1e-4, ("plugin and raw scores of the same pairs differ", r)
        with open(os.path.join(work, "bench.md")) as f:
            assert "plugin/raw-bucketed" in f.read()
        p = subprocess.run(javacp.java_command(build_dir, "io.neuralrescore.bench.MicroBenchSmoke", [], ["-Dbench.repo.root=" + REPO]),
                           capture_output=True, text=True, cwd=REPO)
        if p.returncode != 0:
            raise SystemExit("error: micro benchmark smoke failed:\n" + (p.stdout + p.stderr)[-4000:])
        log(p.stdout.strip().splitlines()[-1])
    finally:
        try:
            client.request("DELETE", "/smoke-bench")
        except Exception:  # noqa: BLE001 - cleanup only
            pass
        import shutil
        shutil.rmtree(work, ignore_errors=True)
    log("bench smoke OK (%.1f s)" % (time.time() - t0))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", default="http://127.0.0.1:9601")
    ap.add_argument("--config", default=os.path.join(HERE, "configs", "bench.json"))
    ap.add_argument("--build-dir", default=os.environ.get("BUILD_DIR", os.path.join(REPO, "target")),
                    help="Maven build dir with classes, test-classes (and bundled-models); default $BUILD_DIR or target/")
    ap.add_argument("--out", default=os.path.join(REPO, "results", "bench"))
    ap.add_argument("--no-raw", action="store_true", help="skip the raw ONNX Runtime ceiling")
    ap.add_argument("--jmh", action="store_true", help="also run the JMH micro benchmarks (needs mvn -Pbench test-compile)")
    ap.add_argument("--jmh-only", action="store_true", help="only the JMH micro benchmarks; no node needed")
    ap.add_argument("--jmh-args", default="", help="extra JMH arguments, e.g. a benchmark regex")
    ap.add_argument("--jmh-json", default=None, help="include the results of an earlier JMH run (its jmh.json) in the report")
    ap.add_argument("--report-only", action="store_true",
                    help="rewrite bench.md and the charts from --out/bench-results.json (with --jmh-json: add those JMH results)")
    ap.add_argument("--smoke", action="store_true", help="seconds-long self-test against a node with the test models")
    args = ap.parse_args()
    build_dir = os.path.abspath(args.build_dir)
    os.makedirs(args.out, exist_ok=True)
    if args.report_only:
        with open(os.path.join(args.out, "bench-results.json")) as f:
            res = json.load(f)
        jmh = res.get("jmh")
        if args.jmh_json:
            with open(args.jmh_json) as f:
                jmh = json.load(f)
        res["meta"]["jmh"] = bool(jmh)
        plots(args.out, res["cells"], res["raw"])
        write_report(args.out, res["meta"], res["cells"], res["raw"], jmh)
        log("rewrote %s/bench.md" % os.path.relpath(args.out))
        return
    if args.jmh_only:
        jmh = run_jmh(build_dir, args.out, args.jmh_args.split() if args.jmh_args else None)
        table = report.md_table(["benchmark", "params", "score", "error (99.9%)", "unit"], jmh_rows(jmh), ["---", "---", "---:", "---:", "---"])
        with open(os.path.join(args.out, "jmh.md"), "w") as f:
            f.write("# Micro benchmarks (JMH)\n\nMeasured %s on %s.\n\n%s\n" % (time.strftime("%Y-%m-%d %H:%M"), report.machine_info(), table))
        print(table)
        return
    client = Client(args.url, timeout=3600)
    client.wait_for_node()
    if args.smoke:
        smoke(client, build_dir)
        return
    with open(args.config) as f:
        cfg = json.load(f)
    workdir = os.path.join(build_dir, "bench-work")
    os.makedirs(workdir, exist_ok=True)
    jmh = run_jmh(build_dir, args.out, args.jmh_args.split() if args.jmh_args else None) if args.jmh else None
    if jmh is None and args.jmh_json:
        with open(args.jmh_json) as f:
            jmh = json.load(f)
    run_bench(client, cfg, build_dir, args.out, workdir, do_raw=not args.no_raw, jmh=jmh)
    log("wrote %s/bench.md, bench-results.json, pairs-per-second.png, latency.png" % os.path.relpath(args.out))


if __name__ == "__main__":
    main()
