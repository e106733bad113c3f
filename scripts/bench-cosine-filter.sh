#!/usr/bin/env bash
# Cost of Cosine Adapter relevance filtering per 1,000 candidates, beyond the query encoding (issue 4):
#   1. in process (JMH, io.neuralrescore.bench.CosineFilterBenchmark): the cosine_filter rescorer's work on a window
#      of 1,000 candidates of an in-memory Lucene index (read the stored embeddings, cosine, calibration, threshold,
#      ordering), per storage (multi_vector float / int8 / float16, Lucene float vectors as knn_vector writes them),
#      and its parts;
#   2. end to end (io.neuralrescore.bench.CosineFilterSearchBench): the same BM25 search through _search on a real
#      node with and without cosine_filter (window 100 / 1000, drop / demote) and wrapped in relevance_filter, the
#      query embedding passed as query_vector so that no model runs.
# Writes results/cosine-filter/README.md (report), jmh.json and e2e.md. Not a test: numbers depend on the machine.
#   scripts/bench-cosine-filter.sh                  builds, starts a node on BENCH_PORT (9603) with models/test/test-adapter,
#                                                   runs both parts, stops the node
#   scripts/bench-cosine-filter.sh --url URL        end to end against a running node (it must have test-adapter)
#   scripts/bench-cosine-filter.sh --jmh-only       only the in-process part
#   scripts/bench-cosine-filter.sh --e2e-only       only the end-to-end part
# Environment: BUILD_DIR (default target/), BENCH_PORT, OUT (default results/cosine-filter),
#   JMH_ARGS (default "-f 1 -wi 5 -w 1s -i 10 -r 1s"), E2E_ARGS (e.g. "--rounds 100 --encodings float").
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$ROOT/target}
source "$ROOT/scripts/env.sh"
BENCH_BUILD="$BUILD_DIR/bench-build"
OUT=${OUT:-$ROOT/results/cosine-filter}
PORT=${BENCH_PORT:-9603}
JMH_ARGS=${JMH_ARGS:--f 1 -wi 5 -w 1s -i 10 -r 1s}
E2E_ARGS=${E2E_ARGS:-}
URL=""
RUN_JMH=true
RUN_E2E=true
while [ $# -gt 0 ]; do
  case "$1" in
    --url) URL=$2; shift 2 ;;
    --jmh-only) RUN_E2E=false; shift ;;
    --e2e-only) RUN_JMH=false; shift ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

echo "== building the benchmark classes (JMH annotation processing) into $BENCH_BUILD"
(cd "$ROOT" && mvn -B -q -Pbench test-compile -Dbuild.dir="$BENCH_BUILD")
(cd "$ROOT" && mvn -B -q dependency:build-classpath -Dbuild.dir="$BENCH_BUILD" \
  -Dmdep.outputFile="$BENCH_BUILD/test-classpath.txt" -Dmdep.includeScope=test)
CP="$BENCH_BUILD/test-classes:$BENCH_BUILD/classes:$(cat "$BENCH_BUILD/test-classpath.txt")"

if $RUN_JMH; then
  echo "== JMH: CosineFilterBenchmark ($JMH_ARGS)"
  # the fork runs with the incubator vector module, as OpenSearch's jvm.options start a node (Lucene's SIMD dot products)
  # shellcheck disable=SC2086
  java -Xmx2g -Dbench.repo.root="$ROOT" -cp "$CP" org.openjdk.jmh.Main 'io\.neuralrescore\.bench\.CosineFilterBenchmark\.' \
    $JMH_ARGS -bm avgt -tu us -jvmArgsAppend "-Xmx2g --add-modules=jdk.incubator.vector -Dbench.repo.root=$ROOT" -rf json -rff "$OUT/jmh.json"
fi

if $RUN_E2E; then
  NODE_DIR="$BUILD_DIR/bench-cf-node"
  if [ -z "$URL" ]; then
    echo "== building the plugin zip"
    (cd "$ROOT" && mvn -B -q package -DskipUnitTests=true -DskipClusterTests=true -Dbuild.dir="$BUILD_DIR")
    trap '"$ROOT/integ-tests/node.sh" stop "$NODE_DIR"' EXIT
    "$ROOT/integ-tests/node.sh" start "$NODE_DIR" "$PORT" "$ROOT/models/test/test-adapter"
    URL="http://127.0.0.1:$PORT"
  fi
  echo "== end to end through _search against $URL"
  # shellcheck disable=SC2086
  java -Xmx1g -cp "$CP" io.neuralrescore.bench.CosineFilterSearchBench --url "$URL" --out "$OUT" $E2E_ARGS
fi

echo "== report: $OUT/README.md"
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
"$PYTHON" - "$OUT" "$LOAD_BEFORE" "$LOAD_AFTER" "$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)" "$JMH_ARGS" <<'PY'
import json, os, platform, subprocess, sys, datetime
out, load_before, load_after, rev, jmh_args = sys.argv[1:6]
cpu = "unknown"
try:
    for line in open("/proc/cpuinfo"):
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
except OSError:
    pass
java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr.splitlines()[0]
lines = ["# Cosine Adapter filtering: cost per 1,000 candidates beyond the query encoding", "",
         "Produced by `scripts/bench-cosine-filter.sh` on %s (commit %s, uncommitted changes possible)." % (
             datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), rev),
         "Machine: %s, %d CPUs visible, %s; %s. Load average (1/5/15 min) before: %s, after: %s." % (
             cpu, os.cpu_count(), platform.platform(), java, load_before, load_after),
         "Other processes shared the CPUs during the run: treat differences below ~20% as noise.", ""]
jmh_file = os.path.join(out, "jmh.json")
e2e_json = os.path.join(out, "e2e.json")
summary = []
if os.path.exists(jmh_file):
    for b in json.load(open(jmh_file)):
        if b["benchmark"].endswith(".rescoreWindow"):
            summary.append("in process, rescorer core on a window of 1,000 (`%s`): %.2f ms" % (
                b["params"]["source"], b["primaryMetric"]["score"] / 1000))
if os.path.exists(e2e_json):
    e2e_data = json.load(open(e2e_json))
    for enc, costs in e2e_data["costs"].items():
        for name, c in costs.items():
            if "window 1000" in name or name.startswith("relevance"):
                per = 1000.0 / c["candidates"]
                summary.append("end to end, `%s` (%s, %d candidates): +%.2f ms wall p50 / +%.2f ms server `took` mean, "
                               "i.e. %.2f / %.2f ms per 1,000 candidates" % (name, enc, c["candidates"], c["wall_p50_diff_ms"],
                                                                             c["took_mean_diff_ms"], c["wall_p50_diff_ms"] * per,
                                                                             c["took_mean_diff_ms"] * per))
if summary:
    lines += ["## Summary", ""] + ["- " + s for s in summary] + [""]
if os.path.exists(jmh_file):
    jmh = json.load(open(jmh_file))
    lines += ["## In process (JMH): `CosineFilterBenchmark`", "",
              "One window of 1,000 candidates drawn at random from a Lucene index of 10,000 documents in 4 segments (MMapDirectory, "
              "page cache warm), "
              "384-d embeddings, adapter `test-adapter` (384 -> 8 relu -> 2, linear_sigmoid), threshold at the window's median "
              "probability, action `drop`. `rescoreWindow` is everything the rescorer does per shard and request after the "
              "query encoding: read + cosine + calibration + threshold + ordering (and copying the 1,000 ScoreDocs); "
              "`readVectors` and `cosineAndCalibrate` are its parts; `adapterParams` runs once per query and shard. "
              "JMH `%s`, average time." % jmh_args, "",
              "| benchmark | storage | us per op | error (99.9%) | per 1,000 candidates |", "|---|---|---:|---:|---:|"]
    for b in jmh:
        name = b["benchmark"].rsplit(".", 1)[1]
        p = b.get("params", {})
        m = b["primaryMetric"]
        per = "%.1f us" % (m["score"] * 1000 / int(p.get("window", 1000))) if name != "adapterParams" else "(once per query)"
        err = m["scoreError"] if isinstance(m["scoreError"], (int, float)) else float("nan")
        lines.append("| %s | %s | %.1f | %.1f | %s |" % (name, p.get("source", ""), m["score"], err, per))
    lines.append("")
e2e = os.path.join(out, "e2e.md")
if os.path.exists(e2e):
    lines.append(open(e2e).read())
open(os.path.join(out, "README.md"), "w").write("\n".join(lines) + "\n")
PY
cat "$OUT/README.md"
