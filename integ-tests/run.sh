#!/usr/bin/env bash
# Tests against a real node: starts OpenSearch 3.8.0 (Maven Central distribution) on 127.0.0.1 with the built
# plugin zip installed, runs the YAML REST tests (rest-api-spec/test) and the Java REST tests (integ-tests/java),
# and stops the node afterwards, also when a test fails. Expects target/neural-rescore-*.zip (mvn package).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/target}
source "$ROOT/scripts/env.sh"
PORT=${INTEG_HTTP_PORT:-9400}
NODE_DIR="$BUILD_DIR/integ-node"
trap '"$ROOT/integ-tests/node.sh" stop "$NODE_DIR"' EXIT
# tiny-bi-e5: the tiny-bi graph under an E5-style manifest (query_prefix / document_prefix), built here rather
# than committed so the repository holds one copy of the graph
EXTRA="$BUILD_DIR/integ-extra-models/tiny-bi-e5"
rm -rf "$EXTRA" && mkdir -p "$EXTRA"
cp "$ROOT/models/test/tiny-bi/model.onnx" "$ROOT/models/test/tiny-bi/tokenizer.json" "$EXTRA/"
cat > "$EXTRA/model.json" <<'JSON'
{"type": "bi_encoder", "max_length": 128, "pooling": "mean", "normalize": true, "dimension": 16,
 "query_prefix": "query: ", "document_prefix": "passage: ",
 "description": "tiny-bi with E5-style prefixes (integration tests)", "license": "Apache-2.0 (random weights)"}
JSON
"$ROOT/integ-tests/node.sh" start "$NODE_DIR" "$PORT" "$ROOT"/models/test/*/ "$EXTRA"
cd "$ROOT"
mvn -B -q -Pinteg verify -Dbuild.dir="$BUILD_DIR" -Dtests.rest.cluster="127.0.0.1:$PORT" -Dtests.clustername=neural-rescore-test "$@"
# Smoke modes of the quality and speed harnesses (harness/), against the same node, so they cannot rot: metrics and
# the TREC self-check on tiny collections; end-to-end vs raw ONNX Runtime scores and throughput on a few pairs with
# the test models; every JMH benchmark method once. About 30 s.
echo "== harness smoke tests (eval.py --smoke, bench.py --smoke)"
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
"$PYTHON" "$ROOT/harness/eval.py" --smoke --url "http://127.0.0.1:$PORT"
"$PYTHON" "$ROOT/harness/bench.py" --smoke --url "http://127.0.0.1:$PORT" --build-dir "$BUILD_DIR"
echo "integ tests passed against a real node"
