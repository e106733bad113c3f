#!/usr/bin/env bash
# The README demo: builds the plugin zip, starts a real OpenSearch 3.8.0 node with it installed (integ-tests/node.sh),
# indexes the SciFact sample this repository carries (harness/data/scifact-sample, with its SOURCE.txt), prints for a
# few test queries the hits before (BM25) and after text_embedding rescoring with the default model, and nDCG@10 of
# both over all sample queries; stops the node afterwards, also on failure or Ctrl-C.
#   scripts/demo.sh                  port 9600; DEMO_PORT, BUILD_DIR (default target/) and PYTHON override
#   scripts/demo.sh --window 50      extra arguments go to harness/demo.py (--help lists them)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export BUILD_DIR=${BUILD_DIR:-$ROOT/target}
source "$ROOT/scripts/env.sh"
PORT=${DEMO_PORT:-9600}
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
NODE_DIR="$BUILD_DIR/demo-node"

echo "== building the plugin zip (JDK: $JAVA_HOME)"
(cd "$ROOT" && mvn -B -q package -DskipUnitTests=true -DskipClusterTests=true -Dbuild.dir="$BUILD_DIR")
trap '"$ROOT/integ-tests/node.sh" stop "$NODE_DIR"' EXIT
echo "== starting OpenSearch 3.8.0 with the plugin on 127.0.0.1:$PORT (first run downloads the distribution)"
"$ROOT/integ-tests/node.sh" start "$NODE_DIR" "$PORT"
"$PYTHON" "$ROOT/harness/demo.py" --url "http://127.0.0.1:$PORT" "$@"
