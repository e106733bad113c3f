#!/usr/bin/env bash
# Speed harness (harness/bench.py): end-to-end queries/s, p50/p99 latency and pairs/s through _search for each
# rescorer of harness/configs/bench.json at windows 10/100/1000 with 1 and 8 clients, next to raw ONNX Runtime on the
# same model and pairs in the same run, plus the JMH micro benchmarks; writes results/bench/ (bench.md,
# bench-results.json, pairs-per-second.png, latency.png, jmh.json). Takes about an hour on 2 cores.
#   scripts/bench.sh                         builds (zip + benchmark classes with JMH), starts a node on BENCH_PORT
#                                            (9601) with the MiniLM-size speed cross-encoders, runs, stops the node
#   scripts/bench.sh --url http://host:9200  uses a running node (it must have the config's models)
#   scripts/bench.sh --jmh-only              only the micro benchmarks (no node); --jmh-args 'Cosine' picks some
#   extra arguments go to harness/bench.py
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$ROOT/target}
source "$ROOT/scripts/env.sh"
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
BENCH_BUILD="$BUILD_DIR/bench-build"

echo "== building the benchmark classes with JMH's annotation processor into $BENCH_BUILD"
(cd "$ROOT" && mvn -B -q -Pbench test-compile -Dbuild.dir="$BENCH_BUILD")
external=false
for a in "$@"; do
  case "$a" in --url|--jmh-only) external=true ;; esac
done
if $external; then
  exec "$PYTHON" "$ROOT/harness/bench.py" --build-dir "$BENCH_BUILD" "$@"
fi
PORT=${BENCH_PORT:-9601}
NODE_DIR="$BUILD_DIR/bench-node"
for flag in "" --int8; do
  dir="$ROOT/models/build/minilm-ce-speed${flag:+-int8}"
  if [ ! -f "$dir/model.onnx" ]; then
    echo "== building $dir (models/tools/make_minilm_cross_encoder.py $flag)"
    "$PYTHON" "$ROOT/models/tools/make_minilm_cross_encoder.py" $flag
  fi
done
echo "== building the plugin zip"
(cd "$ROOT" && mvn -B -q package -DskipUnitTests=true -DskipClusterTests=true -Dbuild.dir="$BUILD_DIR")
trap '"$ROOT/integ-tests/node.sh" stop "$NODE_DIR"' EXIT
"$ROOT/integ-tests/node.sh" start "$NODE_DIR" "$PORT" "$ROOT/models/build/minilm-ce-speed" "$ROOT/models/build/minilm-ce-speed-int8"
"$PYTHON" "$ROOT/harness/bench.py" --url "http://127.0.0.1:$PORT" --build-dir "$BENCH_BUILD" --jmh "$@"
